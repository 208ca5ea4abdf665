//! OpenAPI v3: `kubectl explain` prints upstream's text from the served
//! documents, and `apply`, `create -f` and `replace -f` work with kubectl's
//! default validation (kubectl sees the server validates fields itself and
//! sends `fieldValidation=Strict` instead of validating on the client).

use serde_json::Value;

use crate::{Backend, OutputExt, both_backends, fixture, get_json, manifest, server};

const SEED: &[&str] = &[
    "seed/tomcat.yaml",
    "seed/service-nodeport.yaml",
    "seed/ingress-def.yaml",
    "seed/allow-all-ingress.yaml",
    "seed/allow-netpol.yaml",
];

/// Fail listing the lines of `want` missing from `out`.
fn has_lines(out: &str, want: &[&str]) {
    let lines: Vec<&str> = out.lines().collect();
    let missing: Vec<&&str> = want.iter().filter(|w| !lines.contains(w)).collect();
    assert!(missing.is_empty(), "missing lines {missing:?} in:\n{out}");
}

fn explain(backend: Backend) {
    let s = server(backend);

    let out = s
        .kubectl(&["explain", "pod.spec.containers.resources"])
        .ok();
    has_lines(
        &out,
        &[
            "KIND:       Pod",
            "VERSION:    v1",
            "FIELD: resources <ResourceRequirements>",
            "DESCRIPTION:",
            "    Compute Resources required by this container. Cannot be updated. More info:",
            "    ResourceRequirements describes the compute resource requirements.",
            "FIELDS:",
            "  claims\t<[]ResourceClaim>",
            "  limits\t<map[string]Quantity>",
            "    Limits describes the maximum amount of compute resources allowed. More info:",
            "  requests\t<map[string]Quantity>",
        ],
    );
    assert!(out.starts_with("KIND:       Pod\n"), "{out}");

    let out = s
        .kubectl(&["explain", "deployment.spec", "--recursive"])
        .ok();
    has_lines(
        &out,
        &[
            "GROUP:      apps",
            "KIND:       Deployment",
            "VERSION:    v1",
            "FIELD: spec <DeploymentSpec>",
            "    Specification of the desired behavior of the Deployment.",
            "    DeploymentSpec is the specification of the desired behavior of the",
            "  minReadySeconds\t<integer>",
            "  replicas\t<integer>",
            "  selector\t<LabelSelector> -required-",
            "    matchExpressions\t<[]LabelSelectorRequirement>",
            "      key\t<string> -required-",
            "    matchLabels\t<map[string]string>",
            "  strategy\t<DeploymentStrategy>",
            "    rollingUpdate\t<RollingUpdateDeployment>",
            "      maxSurge\t<IntOrString>",
            "  template\t<PodTemplateSpec> -required-",
            "    metadata\t<ObjectMeta>",
            "      creationTimestamp\t<string>",
            "    spec\t<PodSpec>",
            "      containers\t<[]Container> -required-",
            "        name\t<string> -required-",
        ],
    );
    // Recursive: names and types only.
    assert!(!out.contains("Number of desired pods"), "{out}");

    let out = s.kubectl(&["explain", "pods"]).ok();
    has_lines(
        &out,
        &[
            "KIND:       Pod",
            "VERSION:    v1",
            "    Pod is a collection of containers that can run on a host. This resource is",
            "  apiVersion\t<string>",
            "  metadata\t<ObjectMeta>",
            "  spec\t<PodSpec>",
            "  status\t<PodStatus>",
        ],
    );

    // A version served from another storage version has its own schema.
    let out = s
        .kubectl(&["explain", "hpa.spec", "--api-version=autoscaling/v1"])
        .ok();
    has_lines(
        &out,
        &[
            "GROUP:      autoscaling",
            "KIND:       HorizontalPodAutoscaler",
            "VERSION:    v1",
            "  targetCPUUtilizationPercentage\t<integer>",
            "  scaleTargetRef\t<CrossVersionObjectReference> -required-",
        ],
    );

    let err = s.kubectl(&["explain", "pod.spec.nope"]).err();
    assert!(err.contains(r#"field "nope" does not exist"#), "{err}");
}

fn apply_with_default_validation(backend: Backend) {
    let s = server(backend);
    for file in SEED {
        let out = s.kubectl(&["apply", "-f", &fixture(file)]);
        let stdout = out.ok();
        assert!(stdout.contains("created"), "{file}: {stdout}");
        assert_eq!(out.stderr_str(), "", "{file}");
    }
    // Again: kubectl computes each patch from the served schemas.
    for file in SEED {
        let out = s.kubectl(&["apply", "-f", &fixture(file)]);
        let stdout = out.ok();
        assert!(stdout.contains("unchanged"), "{file}: {stdout}");
        assert_eq!(out.stderr_str(), "", "{file}");
    }
    // A change merges containers and their ports by their keys.
    let yaml = std::fs::read_to_string(fixture("seed/tomcat.yaml"))
        .unwrap()
        .replace("8.5.32-jre8-alpine", "9.0")
        .replace("containerPort: 8009", "containerPort: 8010");
    let path = manifest(&s, "tomcat.yaml", &yaml);
    let out = s.kubectl(&["apply", "-f", &path]);
    assert!(
        out.ok()
            .contains("deployment.apps/tomcat-deploy configured")
    );
    assert_eq!(out.stderr_str(), "");
    let d = get_json(&s, &["deploy", "tomcat-deploy"]);
    let c = &d["spec"]["template"]["spec"]["containers"];
    assert_eq!(c.as_array().map(Vec::len), Some(1), "{c}");
    assert_eq!(c[0]["image"], "tomcat:9.0");
    let ports: Vec<&Value> = c[0]["ports"].as_array().unwrap().iter().collect();
    assert_eq!(ports.len(), 2, "{c}");
    assert_eq!(ports[1]["containerPort"], 8010);

    // replace -f, with the same validation.
    let svc = s.kubectl(&["get", "svc", "tomcat", "-o", "yaml"]).ok();
    let out = s.kubectl_with(&["replace", "-f", "-"], Some(&svc), &[]);
    assert!(out.ok().contains("service/tomcat replaced"));
    assert_eq!(out.stderr_str(), "");
}

fn create_sends_strict_field_validation(backend: Backend) {
    let s = server(backend);
    let bad =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndata:\n  a: \"1\"\nbogus: 1\n";
    let out = s.kubectl_with(&["create", "-f", "-", "-v=6"], Some(bad), &[]);
    let err = out.err();
    assert!(!err.contains("failed to download openapi"), "{err}");
    assert!(
        err.contains("/api/v1/namespaces/default/configmaps?fieldManager=kubectl-create&fieldValidation=Strict"),
        "{err}"
    );
    assert!(err.contains(r#"unknown field "bogus""#), "{err}");

    let good = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: good\ndata:\n  a: \"1\"\n";
    let out = s.kubectl_with(&["create", "-f", "-"], Some(good), &[]);
    assert_eq!(out.ok().trim(), "configmap/good created");
}

/// The index and the documents, as clients fetch them.
fn documents(backend: Backend) {
    let s = server(backend);
    let index: Value =
        serde_json::from_str(&s.kubectl(&["get", "--raw", "/openapi/v3"]).ok()).unwrap();
    let url = index["paths"]["apis/apps/v1"]["serverRelativeURL"]
        .as_str()
        .unwrap_or_else(|| panic!("{index}"));
    assert!(url.starts_with("/openapi/v3/apis/apps/v1?hash="), "{url}");
    assert!(index["paths"]["api/v1"].is_object(), "{index}");
    let doc: Value = serde_json::from_str(&s.kubectl(&["get", "--raw", url]).ok()).unwrap();
    assert_eq!(doc["openapi"], "3.0.0");
    let deployment = &doc["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"];
    assert_eq!(
        deployment["x-kubernetes-group-version-kind"],
        serde_json::json!([{"group": "apps", "kind": "Deployment", "version": "v1"}])
    );
    let patch = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
    assert_eq!(patch["x-kubernetes-action"], "patch");
    assert!(
        patch["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "fieldValidation"),
        "{patch}"
    );
    let err = s
        .kubectl(&["get", "--raw", "/openapi/v3/apis/nope/v1"])
        .err();
    assert!(err.contains("NotFound"), "{err}");
}

both_backends!(
    explain,
    apply_with_default_validation,
    create_sends_strict_field_validation,
    documents
);
