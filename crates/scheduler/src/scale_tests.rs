//! Whole-framework tests: the issue's scenarios end to end on a snapshot,
//! and a 5,000-node run (no timing asserts; it prints its rate).

use std::time::Instant;

use crate::framework::{Framework, Profile, ScheduleOptions};
use crate::pod_info::PodInfo;
use crate::snapshot::Snapshot;
use crate::testing::*;

fn zone_nodes(n: usize) -> Snapshot {
    let mut s = Snapshot::new();
    for i in 0..n {
        s.upsert_node(
            node(&format!("node-{i:05}"))
                .cpu("32")
                .memory("256Gi")
                .pods(110)
                .label("topology.kubernetes.io/zone", &format!("zone-{}", i % 3))
                .obj(),
        );
    }
    s
}

fn schedule_many(
    s: &mut Snapshot,
    fw: &mut Framework,
    pods: impl Iterator<Item = k8s_openapi::api::core::v1::Pod>,
) -> (usize, f64) {
    let start = Instant::now();
    let mut n = 0;
    for p in pods {
        let p = PodInfo::arc(p);
        let d = fw
            .schedule(&p, s, ScheduleOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", p.key));
        s.assume_pod(p, &d.node);
        n += 1;
    }
    (n, n as f64 / start.elapsed().as_secs_f64())
}

#[test]
fn five_thousand_nodes_thousand_pods() {
    let mut s = zone_nodes(5000);
    for i in 0..1000 {
        s.add_pod(
            pod(&format!("init-{i}"))
                .node(&format!("node-{:05}", i * 5))
                .container(&[("cpu", "100m"), ("memory", "500Mi")])
                .obj(),
        );
    }
    let mut fw = Framework::new(Profile::default()).unwrap().with_seed(42);
    let (n, rate) = schedule_many(
        &mut s,
        &mut fw,
        (0..1000).map(|i| {
            pod(&format!("p-{i}"))
                .container(&[("cpu", "100m"), ("memory", "500Mi")])
                .obj()
        }),
    );
    assert_eq!(n, 1000);
    assert_eq!(s.num_pods(), 2000);
    eprintln!(
        "SchedulingBasic-like: 5000 nodes, {n} pods at {rate:.0} pods/s (debug builds are slower)"
    );
    // On 32-core nodes one 100m pod more or less changes no integer
    // score, so placement among the sampled nodes is random: no pile-up.
    let max_per_node = s.nodes().iter().map(|n| n.pods().len()).max().unwrap();
    assert!(max_per_node <= 6, "{max_per_node}");
}

#[test]
fn five_thousand_nodes_topology_spreading_and_anti_affinity() {
    let mut s = zone_nodes(5000);
    let mut fw = Framework::new(Profile::default()).unwrap().with_seed(1);
    let (n, rate) = schedule_many(
        &mut s,
        &mut fw,
        (0..300).map(|i| {
            pod(&format!("spread-{i}"))
                .label("color", "blue")
                .container(&[("cpu", "100m")])
                .spread(spread(
                    5,
                    "topology.kubernetes.io/zone",
                    "DoNotSchedule",
                    &[("color", "blue")],
                ))
                .obj()
        }),
    );
    eprintln!("TopologySpreading-like: {n} pods at {rate:.0} pods/s");
    let mut per_zone = [0usize; 3];
    for node in s.nodes() {
        let z = node.labels()["topology.kubernetes.io/zone"]
            .trim_start_matches("zone-")
            .parse::<usize>()
            .unwrap();
        per_zone[z] += node.pods().len();
    }
    let (min, max) = (
        per_zone.iter().min().unwrap(),
        per_zone.iter().max().unwrap(),
    );
    assert!(max - min <= 5, "{per_zone:?}");

    let (n, rate) = schedule_many(
        &mut s,
        &mut fw,
        (0..200).map(|i| {
            pod(&format!("anti-{i}"))
                .label("app", "anti")
                .container(&[("cpu", "100m")])
                .pod_anti_affinity(pod_term(&[("app", "anti")], "kubernetes.io/hostname"))
                .obj()
        }),
    );
    eprintln!("PodAntiAffinity-like: {n} pods at {rate:.0} pods/s");
    for node in s.nodes() {
        assert!(
            node.pods()
                .iter()
                .filter(|p| p.labels().get("app").is_some_and(|a| a == "anti"))
                .count()
                <= 1
        );
    }
}

#[test]
fn issue_scenarios() {
    // Three nodes; one tainted, one cordoned: pods avoid both.
    let mut s = Snapshot::from_objects(
        [
            node("n1").capacity().obj(),
            node("n2")
                .capacity()
                .taint("dedicated", "gpu", "NoSchedule")
                .obj(),
            node("n3").capacity().unschedulable().obj(),
        ],
        [],
    );
    let mut fw = Framework::new(Profile::default()).unwrap();
    for i in 0..5 {
        let d = fw
            .schedule(
                &PodInfo::new(pod(&format!("p{i}")).obj()),
                &s,
                ScheduleOptions::default(),
            )
            .unwrap();
        assert_eq!(d.node, "n1");
    }
    // A nodeSelector with no match stays pending with upstream's message.
    let e = fw
        .schedule(
            &PodInfo::new(pod("sel").node_selector("disk", "ssd").obj()),
            &s,
            ScheduleOptions::default(),
        )
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {dedicated: gpu}, \
         1 node(s) were unschedulable. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.."
    );
    // Required anti-affinity spreads three replicas over three nodes.
    s = Snapshot::from_objects((1..=3).map(|i| node(&format!("n{i}")).capacity().obj()), []);
    let mut used = Vec::new();
    for i in 0..3 {
        let p = PodInfo::arc(
            pod(&format!("r{i}"))
                .label("app", "r")
                .pod_anti_affinity(pod_term(&[("app", "r")], "kubernetes.io/hostname"))
                .obj(),
        );
        let d = fw.schedule(&p, &s, ScheduleOptions::default()).unwrap();
        s.assume_pod(p, &d.node);
        used.push(d.node);
    }
    used.sort();
    assert_eq!(used, ["n1", "n2", "n3"]);
    let e = fw
        .schedule(
            &PodInfo::new(
                pod("r3")
                    .label("app", "r")
                    .pod_anti_affinity(pod_term(&[("app", "r")], "kubernetes.io/hostname"))
                    .obj(),
            ),
            &s,
            ScheduleOptions::default(),
        )
        .unwrap_err();
    assert!(
        e.to_string().starts_with(
            "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption:"
        ),
        "{e}"
    );
    // Preferred node affinity wins over least-allocated.
    s.upsert_node(node("n2").capacity().label("disk", "ssd").obj());
    let d = fw
        .schedule(
            &PodInfo::new(
                pod("pref")
                    .preferred_node_affinity(10, term(vec![node_req("disk", "In", &["ssd"])]))
                    .obj(),
            ),
            &s,
            ScheduleOptions::default(),
        )
        .unwrap();
    assert_eq!(d.node, "n2");
    // A NotReady node (condition only) is avoided.
    let s = Snapshot::from_objects(
        [
            node("ready").capacity().condition("Ready", "True").obj(),
            node("down").capacity().condition("Ready", "False").obj(),
        ],
        [],
    );
    let e = fw
        .schedule(
            &PodInfo::new(pod("x").node("down").obj()),
            &s,
            ScheduleOptions::default(),
        )
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }"),
        "{e}"
    );
}

#[test]
fn preemption_of_a_low_priority_pod() {
    let mut s = Snapshot::from_objects(
        [node("n1").cpu("2").memory("4Gi").pods(110).obj()],
        [pod("low")
            .priority(0)
            .node("n1")
            .container(&[("cpu", "2")])
            .obj()],
    );
    let mut fw = Framework::new(Profile::default()).unwrap();
    let high = PodInfo::arc(pod("high").priority(1000).container(&[("cpu", "1")]).obj());
    let e = fw
        .schedule(&high, &s, ScheduleOptions::default())
        .unwrap_err();
    let r = e.preemption.expect("a victim");
    assert_eq!(r.nominated_node, "n1");
    assert_eq!(r.victims[0].key, "default/low");
    // The caller evicts and nominates; the pod then fits.
    s.set_nominated(high.clone(), "n1");
    for v in &r.victims {
        s.remove_pod(&v.key);
    }
    assert_eq!(
        fw.schedule(&high, &s, ScheduleOptions::default())
            .unwrap()
            .node,
        "n1"
    );
}

/// The issue's benchmark workloads, scheduler only (no API), in the shape
/// of upstream's scheduler_perf templates (nodes: 4 cpu, 32Gi, 110 pods;
/// pods: 100m, 500Mi). Run with
/// `cargo test --release -p rkube-scheduler throughput -- --ignored --nocapture`.
#[test]
#[ignore]
fn throughput() {
    fn nodes(n: usize) -> Snapshot {
        let mut s = Snapshot::new();
        for i in 0..n {
            s.upsert_node(
                node(&format!("node-{i:05}"))
                    .cpu("4")
                    .memory("32Gi")
                    .pods(110)
                    .label("topology.kubernetes.io/zone", &format!("zone{}", i % 3))
                    .obj(),
            );
        }
        s
    }
    let basic = |name: String| pod(&name).container(&[("cpu", "100m"), ("memory", "500Mi")]);
    let run = |label: &str,
               s: &mut Snapshot,
               init: &mut dyn Iterator<Item = k8s_openapi::api::core::v1::Pod>,
               measured: &mut dyn Iterator<Item = k8s_openapi::api::core::v1::Pod>| {
        let mut fw = Framework::new(Profile::default()).unwrap();
        for p in init {
            let p = PodInfo::arc(p);
            let d = fw.schedule(&p, s, ScheduleOptions::default()).unwrap();
            s.assume_pod(p, &d.node);
        }
        let start = Instant::now();
        let mut n = 0;
        let mut preemptions = 0;
        for p in measured {
            let p = PodInfo::arc(p);
            let node = match fw.schedule(&p, s, ScheduleOptions::default()) {
                Ok(d) => d.node,
                Err(e) => {
                    let Some(r) = e.preemption.clone() else {
                        panic!("{e}")
                    };
                    preemptions += 1;
                    for v in &r.victims {
                        s.remove_pod(&v.key);
                    }
                    s.set_nominated(p.clone(), &r.nominated_node);
                    fw.schedule(&p, s, ScheduleOptions::default()).unwrap().node
                }
            };
            s.assume_pod(p, &node);
            n += 1;
        }
        let secs = start.elapsed().as_secs_f64();
        eprintln!(
            "{label}: {n} pods in {secs:.2}s = {:.0} pods/s ({preemptions} preemptions)",
            n as f64 / secs
        );
    };

    let mut s = nodes(5000);
    run(
        "SchedulingBasic 5000/1000/10000",
        &mut s,
        &mut (0..1000).map(|i| basic(format!("init-{i}")).obj()),
        &mut (0..10000).map(|i| basic(format!("p-{i}")).obj()),
    );

    let mut s = nodes(5000);
    let affine = |name: String| {
        basic(name).required_node_affinity(vec![term(vec![node_req(
            "topology.kubernetes.io/zone",
            "In",
            &["zone0", "zone1"],
        )])])
    };
    run(
        "NodeAffinity 5000/5000/10000",
        &mut s,
        &mut (0..5000).map(|i| affine(format!("init-{i}")).obj()),
        &mut (0..10000).map(|i| affine(format!("p-{i}")).obj()),
    );

    let mut s = nodes(5000);
    let anti = |name: String| {
        basic(name)
            .label("color", "green")
            .pod_anti_affinity(pod_term(&[("color", "green")], "kubernetes.io/hostname"))
    };
    run(
        "PodAntiAffinity 5000/1000/2000",
        &mut s,
        &mut (0..1000).map(|i| anti(format!("init-{i}")).obj()),
        &mut (0..2000).map(|i| anti(format!("p-{i}")).obj()),
    );

    let mut s = nodes(5000);
    let spreading = |name: String| {
        basic(name).label("color", "blue").spread(spread(
            5,
            "topology.kubernetes.io/zone",
            "DoNotSchedule",
            &[("color", "blue")],
        ))
    };
    run(
        "TopologySpreading 5000/5000/5000",
        &mut s,
        &mut (0..5000).map(|i| basic(format!("init-{i}")).obj()),
        &mut (0..5000).map(|i| spreading(format!("p-{i}")).obj()),
    );

    let mut s = nodes(1000);
    run(
        "PreemptionBasic 1000/4000/1000",
        &mut s,
        &mut (0..4000).map(|i| {
            pod(&format!("low-{i}"))
                .priority(1)
                .container(&[("cpu", "900m"), ("memory", "500Mi")])
                .obj()
        }),
        &mut (0..1000).map(|i| {
            pod(&format!("high-{i}"))
                .priority(10)
                .container(&[("cpu", "3000m"), ("memory", "500Mi")])
                .obj()
        }),
    );
}

/// The caches (per-domain counts, the existing anti-affinity term index)
/// must give what recomputing from scratch gives, whatever the history of
/// adds and removes.
#[test]
fn caches_agree_with_recomputation() {
    use crate::plugins::test_util::passes;
    use crate::plugins::{
        inter_pod_affinity::InterPodAffinity, pod_topology_spread::PodTopologySpread,
    };
    use rand::rngs::SmallRng;
    use rand::{Rng, SeedableRng};

    let mut rng = SmallRng::seed_from_u64(99);
    let colors = ["red", "blue", "green"];
    let mk_nodes = |s: &mut Snapshot| {
        for i in 0..12 {
            let mut b = node(&format!("n{i:02}"))
                .capacity()
                .label("zone", &format!("z{}", i % 3));
            if i % 5 != 0 {
                b = b.label("rack", &format!("r{}", i % 4));
            }
            s.upsert_node(b.obj());
        }
    };
    let mut s = Snapshot::new();
    mk_nodes(&mut s);
    let mut live: Vec<k8s_openapi::api::core::v1::Pod> = Vec::new();
    let pts = PodTopologySpread::new(Default::default()).unwrap();
    let ipa = InterPodAffinity::new(Default::default());
    for round in 0..300 {
        // Mutate: add a random pod (sometimes terminating, sometimes with
        // anti-affinity) or remove one.
        if live.is_empty() || rng.random_range(0..3) > 0 {
            let c = colors[rng.random_range(0..3)];
            let mut b = pod(&format!("p{round}"))
                .label("color", c)
                .namespace(if rng.random_range(0..4) == 0 {
                    "other"
                } else {
                    "default"
                })
                .node(&format!("n{:02}", rng.random_range(0..12)));
            if rng.random_range(0..5) == 0 {
                b = b.terminating();
            }
            if rng.random_range(0..4) == 0 {
                b = b.pod_anti_affinity(pod_term(
                    &[("color", colors[rng.random_range(0..3)])],
                    ["zone", "rack"][rng.random_range(0..2)],
                ));
            }
            let p = b.obj();
            s.add_pod(p.clone());
            live.push(p);
        } else {
            let p = live.swap_remove(rng.random_range(0..live.len()));
            s.remove_pod(&format!(
                "{}/{}",
                p.metadata.namespace.as_deref().unwrap(),
                p.metadata.name.as_deref().unwrap()
            ));
        }
        if round % 50 == 25 {
            // Node churn (removal and return, relabelling) invalidates the caches.
            s.remove_node("n03");
            s.upsert_node(
                node("n03")
                    .capacity()
                    .label("zone", "z0")
                    .label("rack", "r3")
                    .obj(),
            );
            s.upsert_node(
                node("n07")
                    .capacity()
                    .label("zone", "z2")
                    .label("rack", &format!("r{round}"))
                    .obj(),
            );
        }
        let mut fresh = Snapshot::new();
        mk_nodes(&mut fresh);
        if round >= 25 {
            fresh.upsert_node(
                node("n07")
                    .capacity()
                    .label("zone", "z2")
                    .label("rack", &format!("r{}", round - (round + 25) % 50))
                    .obj(),
            );
        }
        for p in &live {
            fresh.add_pod(p.clone());
        }
        for key in ["zone", "rack"] {
            for c in colors {
                let sel = crate::labels::Selector::from_set(
                    &[("color".to_string(), c.to_string())].into_iter().collect(),
                );
                let by_name =
                    |(t, c): (std::sync::Arc<crate::snapshot::TopologyIndex>, Vec<i64>)| {
                        t.domains
                            .iter()
                            .cloned()
                            .zip(c)
                            .collect::<std::collections::BTreeMap<String, i64>>()
                    };
                assert_eq!(
                    by_name(s.domain_counts("default", &sel, key)),
                    by_name(fresh.domain_counts("default", &sel, key)),
                    "round {round}"
                );
                assert_eq!(
                    by_name(s.affinity_domain_counts("default", &sel, key)),
                    by_name(fresh.affinity_domain_counts("default", &sel, key))
                );
            }
        }
        // Filters: cached paths (no node affinity) vs walking paths
        // (a node affinity every node satisfies).
        let c = colors[round % 3];
        let key = ["zone", "rack"][round % 2];
        let plain =
            pod("x")
                .label("color", c)
                .spread(spread(1, key, "DoNotSchedule", &[("color", c)]));
        let walked = plain.0.clone();
        let walked =
            crate::testing::PodBuilder(walked).required_node_affinity(vec![term(vec![node_req(
                "kubernetes.io/hostname",
                "Exists",
                &[],
            )])]);
        let named = |snap: &Snapshot, v: Vec<bool>| {
            snap.nodes()
                .iter()
                .map(|n| n.name().to_string())
                .zip(v)
                .collect::<std::collections::BTreeMap<_, _>>()
        };
        let plain = PodInfo::new(plain.obj());
        assert_eq!(
            passes(&pts, &plain, &s),
            passes(&pts, &PodInfo::new(walked.obj()), &s),
            "round {round}"
        );
        assert_eq!(
            named(&s, passes(&pts, &plain, &s)),
            named(&fresh, passes(&pts, &plain, &fresh)),
            "round {round}"
        );
        let anti = PodInfo::new(
            pod("y")
                .label("color", c)
                .pod_anti_affinity(pod_term(&[("color", c)], key))
                .obj(),
        );
        assert_eq!(
            named(&s, passes(&ipa, &anti, &s)),
            named(&fresh, passes(&ipa, &anti, &fresh)),
            "round {round}"
        );
        let victim = PodInfo::new(pod("z").label("color", c).obj());
        assert_eq!(
            named(&s, passes(&ipa, &victim, &s)),
            named(&fresh, passes(&ipa, &victim, &fresh)),
            "round {round}"
        );
    }
}
