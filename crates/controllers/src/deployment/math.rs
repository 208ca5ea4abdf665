//! The arithmetic of rollouts, as upstream's `deployment/util`: surge and
//! unavailability limits, how far the new ReplicaSet may grow, how far
//! the old ones may shrink, proportional scaling. Pure functions.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// An `IntOrString` against `total`: a number, or a percentage rounded up
/// (`round_up`) or down.
pub fn scaled_value(v: Option<&IntOrString>, total: i32, round_up: bool) -> i32 {
    match v {
        None => 0,
        Some(IntOrString::Int(n)) => *n,
        Some(IntOrString::String(s)) => {
            let Some(p) = s
                .strip_suffix('%')
                .and_then(|p| p.trim().parse::<i64>().ok())
            else {
                return s.parse().unwrap_or(0);
            };
            let num = p * i64::from(total);
            let v = if round_up {
                (num + 99).div_euclid(100)
            } else {
                num.div_euclid(100)
            };
            v as i32
        }
    }
}

/// `(maxSurge, maxUnavailable)` for `replicas` (upstream's
/// `ResolveFenceposts`): surge rounds up, unavailability down, and both
/// zero means one may be unavailable.
pub fn fenceposts(
    max_surge: Option<&IntOrString>,
    max_unavailable: Option<&IntOrString>,
    replicas: i32,
) -> (i32, i32) {
    let default = IntOrString::String("25%".into());
    let surge = scaled_value(Some(max_surge.unwrap_or(&default)), replicas, true);
    let unavailable = scaled_value(Some(max_unavailable.unwrap_or(&default)), replicas, false);
    if surge == 0 && unavailable == 0 {
        (0, 1)
    } else {
        (surge, unavailable)
    }
}

/// The size the new ReplicaSet may grow to now (`NewRSNewReplicas` for
/// RollingUpdate): up to `replicas + max_surge` pods in all.
pub fn new_rs_size(replicas: i32, max_surge: i32, all_pods: i32, new_rs: i32) -> i32 {
    let max_total = replicas + max_surge;
    if all_pods >= max_total {
        return new_rs;
    }
    let up = (max_total - all_pods).min(replicas - new_rs).max(0);
    new_rs + up
}

/// How many old pods may go now (`reconcileOldReplicaSets`): keep
/// `replicas - max_unavailable` available, counting the new ReplicaSet's
/// not-yet-available pods as unavailable.
pub fn max_scaled_down(
    replicas: i32,
    max_unavailable: i32,
    all_pods: i32,
    new_rs_replicas: i32,
    new_rs_available: i32,
) -> i32 {
    let min_available = replicas - max_unavailable;
    let new_unavailable = new_rs_replicas - new_rs_available;
    all_pods - min_available - new_unavailable
}

/// Proportional share of a scaling event for one ReplicaSet
/// (`getReplicaSetFraction`): its size scaled by how the Deployment's
/// allowed size changed since the ReplicaSet was last sized
/// (`annotated_max`, its max-replicas annotation).
pub fn fraction(rs_replicas: i32, replicas: i32, max_surge: i32, annotated_max: i32) -> i32 {
    if replicas == 0 {
        return -rs_replicas;
    }
    if annotated_max <= 0 {
        return 0;
    }
    let allowed = i64::from(replicas + max_surge);
    let scaled = (i64::from(rs_replicas) * allowed + i64::from(annotated_max) - 1)
        / i64::from(annotated_max);
    scaled as i32 - rs_replicas
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> IntOrString {
        IntOrString::String(v.into())
    }

    #[test]
    fn percentages_round_as_upstream() {
        // 25% of 10: surge rounds up to 3, unavailability down to 2.
        assert_eq!(fenceposts(None, None, 10), (3, 2));
        assert_eq!(fenceposts(Some(&s("0%")), Some(&s("0%")), 10), (0, 1));
        assert_eq!(
            fenceposts(Some(&IntOrString::Int(2)), Some(&s("50%")), 3),
            (2, 1)
        );
        assert_eq!(fenceposts(None, None, 1), (1, 0));
    }

    #[test]
    fn the_new_replica_set_grows_within_the_surge() {
        // 10 replicas, surge 3, all 10 old: new may have 3.
        assert_eq!(new_rs_size(10, 3, 10, 0), 3);
        // Already at 13 pods: no growth.
        assert_eq!(new_rs_size(10, 3, 13, 3), 3);
        // Never beyond the replicas.
        assert_eq!(new_rs_size(10, 3, 9, 9), 10);
    }

    #[test]
    fn old_pods_go_while_enough_stay_available() {
        // 10 replicas, maxUnavailable 2, 13 pods, new 3 not available:
        // 13 - 8 - 3 = 2 old pods may go.
        assert_eq!(max_scaled_down(10, 2, 13, 3, 0), 2);
        assert_eq!(max_scaled_down(10, 0, 10, 0, 0), 0);
    }

    #[test]
    fn proportional_scaling_follows_the_allowed_size() {
        // Scaled from 10 (+3 surge = 13) to 20 (+5 = 25): an RS of 6 grows
        // to ceil(6 * 25 / 13) = 12.
        assert_eq!(fraction(6, 20, 5, 13), 6);
        assert_eq!(fraction(6, 0, 0, 13), -6);
    }
}
