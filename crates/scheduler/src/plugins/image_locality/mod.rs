//! ImageLocality: favours nodes that already have the pod's images, by
//! their size scaled by how widespread they are (to avoid piling onto the
//! few nodes that have an image):
//! `sum = Σ size × nodes_with_image / all_nodes` over the pod's
//! containers; score = 100 × (clamp(sum, 23MB, 1000MB × containers) −
//! 23MB) / (1000MB × containers − 23MB).

use crate::framework::{CycleState, MAX_NODE_SCORE, Plugin, ScorePlugin};
use crate::pod_info::PodInfo;
use crate::snapshot::{NodeInfo, Snapshot};

/// Plugin name.
pub const NAME: &str = "ImageLocality";

const MB: i64 = 1024 * 1024;
const MIN_THRESHOLD: i64 = 23 * MB;
const MAX_CONTAINER_THRESHOLD: i64 = 1000 * MB;

/// The plugin.
#[derive(Debug, Default)]
pub struct ImageLocality;

/// Upstream's `calculatePriority`.
pub fn calculate_priority(sum: i64, num_containers: usize) -> i64 {
    let max = MAX_CONTAINER_THRESHOLD * num_containers as i64;
    let s = sum.clamp(MIN_THRESHOLD, max.max(MIN_THRESHOLD));
    if max <= MIN_THRESHOLD {
        return 0;
    }
    MAX_NODE_SCORE * (s - MIN_THRESHOLD) / (max - MIN_THRESHOLD)
}

impl Plugin for ImageLocality {
    fn name(&self) -> &'static str {
        NAME
    }
    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        Some(self)
    }
}

impl ScorePlugin for ImageLocality {
    fn score(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo, snap: &Snapshot) -> i64 {
        if pod.images.is_empty() || node.images().is_empty() {
            return 0;
        }
        let total = snap.num_nodes().max(1) as f64;
        let mut sum = 0i64;
        for img in &pod.images {
            if let Some(&size) = node.images().get(img) {
                let spread = snap.image_num_nodes(img) as f64 / total;
                sum += (size as f64 * spread) as i64;
            }
        }
        let containers = pod.pod.spec.as_ref().map_or(0, |s| {
            s.containers.len() + s.init_containers.as_ref().map_or(0, Vec::len)
        });
        calculate_priority(sum, containers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::test_util::*;
    use crate::testing::*;

    #[test]
    fn upstream_two_images() {
        // Upstream's "two images spread on two nodes, prefer the larger
        // image one": 40MB on n1, 300MB on n2, pod wants both.
        // n1: 40MB×1/2 = 20MB < 23MB → 0; n2: 300MB×1/2 = 150MB →
        // 100×(150−23)/(2000−23) = 6.
        let snap = Snapshot::from_objects(
            [
                node("n1")
                    .image(&["gcr.io/40:latest", "gcr.io/40:v1"], 40 * MB)
                    .obj(),
                node("n2")
                    .image(&["gcr.io/300:latest", "gcr.io/300:v1"], 300 * MB)
                    .obj(),
            ],
            [],
        );
        let p = PodInfo::new(pod("p").image("gcr.io/40").image("gcr.io/300").obj());
        assert_eq!(score_all(&ImageLocality, &p, &snap).unwrap().0, [0, 6]);
    }

    #[test]
    fn widespread_image() {
        // 2000MB on both nodes, one container: 2000MB×2/2 → capped at 1000MB → 100.
        let snap = Snapshot::from_objects(
            [
                node("n1").image(&["big:1"], 2000 * MB).obj(),
                node("n2").image(&["big:1"], 2000 * MB).obj(),
            ],
            [],
        );
        let p = PodInfo::new(pod("p").image("big:1").obj());
        assert_eq!(score_all(&ImageLocality, &p, &snap).unwrap().0, [100, 100]);
        assert_eq!(calculate_priority(500 * MB, 1), 100 * (477) / 977);
    }
}
