//! The ServiceAccounts controller and admission, through kubectl: every
//! namespace has a `default` ServiceAccount (re-created when deleted), and
//! pods that name no account run as `default`.

use crate::support::eventually;
use crate::{Backend, OutputExt, RkubeServer, create, server};

/// The uid of `namespace/default`, once it exists.
fn default_sa_uid(s: &RkubeServer, namespace: &str) -> String {
    eventually(
        s,
        &format!("serviceaccount {namespace}/default"),
        30,
        || {
            let out = s.kubectl(&[
                "get",
                "serviceaccount",
                "default",
                "-n",
                namespace,
                "-o",
                "jsonpath={.metadata.uid}",
            ]);
            let uid = out.stdout_str();
            (out.status.success() && !uid.is_empty()).then_some(uid)
        },
    )
}

#[test]
fn every_namespace_has_a_default_service_account() {
    let s = server(Backend::Sqlite);
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        default_sa_uid(&s, ns);
    }
    s.kubectl(&["create", "namespace", "team"]).ok();
    let first = default_sa_uid(&s, "team");
    let listed = s.kubectl(&["get", "serviceaccounts", "-n", "team"]).ok();
    assert!(listed.contains("default"), "{listed}");

    // Deleted: it comes back (a new object).
    s.kubectl(&["delete", "serviceaccount", "default", "-n", "team"])
        .ok();
    eventually(&s, "the default ServiceAccount to come back", 30, || {
        let uid = default_sa_uid(&s, "team");
        (uid != first).then_some(())
    });
}

#[test]
fn pods_run_as_the_default_service_account_unless_they_name_one() {
    let s = server(Backend::Sqlite);
    create(
        &s,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: plain\nspec:\n  containers:\n  - name: c\n    image: busybox\n",
    );
    create(
        &s,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: named\nspec:\n  serviceAccountName: builder\n  containers:\n  - name: c\n    image: busybox\n",
    );
    let sa = |pod: &str| {
        s.kubectl(&[
            "get",
            "pod",
            pod,
            "-o",
            "jsonpath={.spec.serviceAccountName}/{.spec.serviceAccount}",
        ])
        .ok()
    };
    assert_eq!(sa("plain"), "default/default");
    assert_eq!(sa("named"), "builder/builder");
}
