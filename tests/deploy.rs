//! The Kubernetes manifests (`deploy/k8s/`) parse, agree with each other and with the binary:
//! the ports the Service exposes are the ones the coordinator listens on, the worker and KEDA
//! reach it through the Service, the database sits on the StatefulSet's volume, every token
//! comes from the one Secret, and every flag they pass exists.

mod common;

use std::collections::BTreeMap;
use yaml_rust2::{Yaml, YamlLoader};

fn manifests() -> Vec<Yaml> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/k8s");
    let mut docs = Vec::new();
    for f in [
        "secret.yaml",
        "coordinator.yaml",
        "workers.yaml",
        "keda.yaml",
    ] {
        let text = std::fs::read_to_string(dir.join(f)).expect("manifest");
        docs.extend(YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{f}: {e}")));
    }
    docs
}

fn find<'a>(docs: &'a [Yaml], kind: &str) -> &'a Yaml {
    docs.iter()
        .find(|d| d["kind"].as_str() == Some(kind))
        .unwrap_or_else(|| panic!("no {kind}"))
}

fn str_of(y: &Yaml) -> String {
    match y {
        Yaml::String(s) => s.clone(),
        Yaml::Integer(i) => i.to_string(),
        other => panic!("not a scalar: {other:?}"),
    }
}

/// `--name=value` arguments of a container.
fn flags(container: &Yaml) -> BTreeMap<String, String> {
    container["args"]
        .as_vec()
        .expect("args")
        .iter()
        .filter_map(|a| a.as_str()?.strip_prefix("--")?.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn port_of(addr: &str) -> i64 {
    addr.rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port")
}

#[test]
fn kubernetes_manifests_are_consistent_with_each_other_and_the_binary() {
    let docs = manifests();
    let service = find(&docs, "Service");
    let name = service["metadata"]["name"].as_str().expect("service name");
    let ports: BTreeMap<String, i64> = service["spec"]["ports"]
        .as_vec()
        .expect("ports")
        .iter()
        .map(|p| (str_of(&p["name"]), p["port"].as_i64().expect("port")))
        .collect();
    let set = find(&docs, "StatefulSet");
    assert_eq!(set["spec"]["replicas"].as_i64(), Some(1), "one coordinator");
    let pod = &set["spec"]["template"]["spec"];
    let coordinator = &pod["containers"][0];
    let args = flags(coordinator);
    // The coordinator listens where the Service sends traffic, under the same port names.
    for (flag, port) in [("listen", "grpc"), ("metrics", "metrics"), ("keda", "keda")] {
        assert_eq!(port_of(&args[flag]), ports[port], "--{flag}");
        let container_port = coordinator["ports"]
            .as_vec()
            .expect("container ports")
            .iter()
            .find(|p| p["name"].as_str() == Some(port))
            .and_then(|p| p["containerPort"].as_i64());
        assert_eq!(container_port, Some(ports[port]), "{port}");
    }
    assert_eq!(
        args["advertise"],
        format!("http://{name}:{}", ports["grpc"])
    );
    // The database and access file live on the claimed volume.
    let claim = set["spec"]["volumeClaimTemplates"][0]["metadata"]["name"]
        .as_str()
        .expect("claim");
    let mount = coordinator["volumeMounts"]
        .as_vec()
        .expect("mounts")
        .iter()
        .find(|m| m["name"].as_str() == Some(claim))
        .and_then(|m| m["mountPath"].as_str())
        .expect("the claim is mounted");
    for file in ["db", "access"] {
        assert!(args[file].starts_with(&format!("{mount}/")), "--{file}");
    }
    // Workers reach the coordinator through the Service; KEDA too, on the scaler port.
    let deployment = find(&docs, "Deployment");
    let worker_pod = &deployment["spec"]["template"]["spec"];
    let worker = &worker_pod["containers"][0];
    let wargs = flags(worker);
    assert_eq!(
        wargs["coordinator"],
        format!("http://{name}:{}", ports["grpc"])
    );
    let drain: i64 = wargs["drain-timeout"].parse().expect("drain timeout");
    assert!(
        worker_pod["terminationGracePeriodSeconds"].as_i64() > Some(drain),
        "the pod must outlive the worker's drain"
    );
    let scaled = find(&docs, "ScaledObject");
    assert_eq!(
        scaled["spec"]["scaleTargetRef"]["name"].as_str(),
        deployment["metadata"]["name"].as_str()
    );
    let trigger = &scaled["spec"]["triggers"][0];
    assert_eq!(trigger["type"].as_str(), Some("external"));
    assert_eq!(
        str_of(&trigger["metadata"]["scalerAddress"]),
        format!("{name}:{}", ports["keda"])
    );
    assert_eq!(
        str_of(&trigger["metadata"]["tasksPerWorker"]),
        wargs["slots"]
    );
    // Every token comes from the one Secret, under its one key.
    let secret = find(&docs, "Secret");
    let secret_name = secret["metadata"]["name"].as_str().expect("secret name");
    let key = secret["stringData"]
        .as_hash()
        .and_then(|h| h.keys().next())
        .and_then(Yaml::as_str)
        .expect("secret key");
    for c in [coordinator, worker] {
        let env = c["env"].as_vec().expect("env");
        let token = env
            .iter()
            .find(|e| e["name"].as_str() == Some("RGSWEEP_TOKEN"))
            .expect("RGSWEEP_TOKEN");
        let r = &token["valueFrom"]["secretKeyRef"];
        assert_eq!(
            (r["name"].as_str(), r["key"].as_str()),
            (Some(secret_name), Some(key))
        );
    }
    // Every flag exists in the binary the image holds.
    for (command, args) in [("coordinator", &args), ("worker", &wargs)] {
        let help = common::rgsweep(&[command, "--help"]);
        let help = String::from_utf8_lossy(&help.stdout);
        for flag in args.keys() {
            assert!(help.contains(&format!("--{flag}")), "{command} --{flag}");
        }
    }
    // The image the manifests run is the one the Dockerfile builds.
    let dockerfile = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("Dockerfile"),
    )
    .expect("Dockerfile");
    assert!(dockerfile.contains("cargo build --release --locked --bin rgsweep"));
    assert!(dockerfile.contains("ENTRYPOINT [\"/usr/local/bin/rgsweep\"]"));
    for c in [coordinator, worker] {
        assert_eq!(c["image"].as_str(), Some("rgsweep:latest"));
    }
}
