//! The wire contract from a client's side: every malformed or unauthenticated request is
//! refused with the right gRPC status, and server reflection describes the services to
//! standard tools.

mod common;

use common::*;
use rgsweep_proto::client::{self, Bearer};
use rgsweep_proto::v1;
use tonic::Code;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn malformed_and_unauthenticated_requests_are_refused() {
    let dir = scratch("grpc-refusals");
    let c = Coord::start(&dir, None, "5", "5");
    let access = client::Access::read(&c.access).expect("access file");
    runtime().block_on(async {
        let channel = client::channel(&access.address, None).expect("channel");
        // No token at all.
        let mut anon = v1::worker_client::WorkerClient::new(channel.clone());
        let e = anon
            .lease(v1::LeaseRequest {
                worker_id: "x".into(),
                slots: 1,
                time_left_ms: 0,
                capabilities: Vec::new(),
            })
            .await
            .expect_err("no token");
        assert_eq!(e.code(), Code::Unauthenticated);
        let mut w = client::worker_client(channel.clone(), &access.token).expect("client");
        let e = w
            .lease(v1::LeaseRequest {
                worker_id: String::new(),
                slots: 1,
                time_left_ms: 0,
                capabilities: Vec::new(),
            })
            .await
            .expect_err("empty worker id");
        assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
        let e = w
            .heartbeat(v1::HeartbeatRequest {
                worker_id: "w".into(),
                leases: vec![v1::LeaseRef {
                    key: vec![1, 2, 3],
                    token: 1,
                }],
            })
            .await
            .expect_err("short key");
        assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
        // A result whose shape does not match its own task.
        let task = v1::Task {
            model: "ising2d".into(),
            q: 2,
            size: 4,
            temperature: 2.0,
            algorithm: "wolff".into(),
            thermalize: 1,
            measurements: 3,
            interval: 1,
            first_replica: 0,
            replicas: 1,
            seed: 1,
            rsmi: None,
            rg: None,
            save_samples: 0,
            interaction: None,
            probabilities: Vec::new(),
            maze: None,
            external: None,
        };
        // One replica whose energy series has `n` entries (the task asks for 3).
        let result = |n: usize| v1::TaskResult {
            task: Some(task.clone()),
            sites: 16,
            order_norm: 16.0,
            replicas: vec![v1::Series {
                energy: vec![0; n],
                order: vec![0; 3],
                named: Vec::new(),
            }],
            stats: None,
            rsmi: Vec::new(),
            rg: Vec::new(),
            samples: Vec::new(),
            percolation: None,
            maze: None,
        };
        // Shape ≠ task; then a well-formed result under another task's key.
        for (r, why) in [(result(2), "bad shape"), (result(3), "wrong key")] {
            let e = w
                .complete(v1::CompleteRequest {
                    worker_id: "w".into(),
                    results: vec![v1::Completed {
                        key: vec![0; 32],
                        token: 1,
                        result: Some(r),
                    }],
                    lease_slots: 0,
                    time_left_ms: 0,
                    capabilities: Vec::new(),
                })
                .await
                .expect_err(why);
            assert_eq!(e.code(), Code::InvalidArgument, "{why}: {e:?}");
        }
        // Clients must use the client token; a sweep that does not exist is NOT_FOUND.
        let mut cl = client::client_client(channel.clone(), &access.token).expect("client");
        let e = cl
            .results(v1::ResultsRequest {
                sweep_id: "nope".into(),
            })
            .await
            .expect_err("no such sweep");
        assert_eq!(e.code(), Code::NotFound, "{e:?}");
        let e = cl
            .submit(v1::SubmitRequest {
                file_name: "x.toml".into(),
                toml: "name = 3".into(),
            })
            .await
            .expect_err("bad sweep");
        assert_eq!(e.code(), Code::InvalidArgument);
        assert!(e.message().contains("x.toml:1:"), "{}", e.message());
        let e = cl
            .retry(v1::RetryRequest {
                sweep_id: "nope".into(),
            })
            .await
            .expect_err("no such sweep");
        assert_eq!(e.code(), Code::NotFound, "{e:?}");
        // Resuming allocation on a coordinator that does not allocate is a clear refusal.
        let e = cl
            .resume_allocation(v1::ResumeAllocationRequest {})
            .await
            .expect_err("no allocation");
        assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
        assert!(e.message().contains("--slurm"), "{}", e.message());
    });
    let (done, results) = done_tasks(&db(&dir));
    assert_eq!((done.len(), results), (0, 0), "nothing stored");
    let log = c.proc.log_text();
    assert!(
        log.contains("request rejected: missing or wrong bearer token"),
        "{log}"
    );
    assert!(log.contains("malformed request rejected"), "{log}");
}

#[test]
fn server_reflection_lists_the_services() {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    let dir = scratch("grpc-reflection");
    let c = Coord::start(&dir, None, "5", "5");
    let access = client::Access::read(&c.access).expect("access file");
    let names = runtime().block_on(async {
        let channel = client::channel(&access.address, None).expect("channel");
        let mut r = ServerReflectionClient::with_interceptor(
            channel,
            Bearer::new(&access.token).expect("token"),
        );
        let req = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut stream = r
            .server_reflection_info(tokio_stream::iter(vec![req]))
            .await
            .expect("reflection")
            .into_inner();
        let reply = stream.message().await.expect("reply").expect("one reply");
        match reply.message_response {
            Some(MessageResponse::ListServicesResponse(l)) => {
                l.service.into_iter().map(|s| s.name).collect::<Vec<_>>()
            }
            other => panic!("unexpected reply {other:?}"),
        }
    });
    for s in ["rgsweep.v1.Worker", "rgsweep.v1.Client"] {
        assert!(names.iter().any(|n| n == s), "{names:?}");
    }
}

#[test]
fn tls_serves_clients_that_trust_its_certificate_only() {
    let dir = scratch("grpc-tls");
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
        .expect("certificate");
    let cert_pem = write(&dir, "cert.pem", &cert.cert.pem());
    let key_pem = write(&dir, "key.pem", &cert.signing_key.serialize_pem());
    let c = Coord::start_with(
        &dir,
        None,
        "5",
        "5",
        &["--tls-cert", s(&cert_pem), "--tls-key", s(&key_pem)],
    );
    let access = client::Access::read(&c.access).expect("access file");
    assert!(access.address.starts_with("https://"), "{}", access.address);
    let o = rgsweep(&[
        "status",
        "--access",
        s(&c.access),
        "--tls-ca",
        s(&cert_pem),
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["workers"], 0);
    // Without the certificate the client cannot verify the server and does not talk to it.
    let o = rgsweep(&["status", "--access", s(&c.access), "--json"]);
    assert!(
        !o.status.success(),
        "a TLS server was trusted without its CA"
    );
    // A plain-text client gets nowhere either.
    let plain = access.address.replace("https://", "http://");
    let o = rgsweep(&["status", "--coordinator", &plain, "--token", &access.token]);
    assert!(!o.status.success());
}

#[test]
fn workers_and_clients_can_hold_separate_tokens() {
    let dir = scratch("grpc-tokens");
    let c = Coord::start_with(
        &dir,
        None,
        "5",
        "5",
        &[
            "--token",
            "client-secret",
            "--worker-token",
            "worker-secret",
        ],
    );
    let access = client::Access::read(&c.access).expect("access file");
    assert_eq!(access.token, "client-secret");
    assert_eq!(access.worker_token.as_deref(), Some("worker-secret"));
    let address = access.address.clone();
    let o = rgsweep(&[
        "status",
        "--coordinator",
        &address,
        "--token",
        "worker-secret",
    ]);
    assert!(
        !o.status.success(),
        "a worker token must not work for clients"
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("Unauthenticated"));
    let o = rgsweep(&[
        "status",
        "--coordinator",
        &address,
        "--token",
        "client-secret",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // A backup holds every result: workers' tokens cannot take one, and nothing is written.
    let copy = dir.join("stolen.db");
    let o = rgsweep(&[
        "backup",
        s(&copy),
        "--coordinator",
        &address,
        "--token",
        "worker-secret",
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("Unauthenticated"));
    assert!(!copy.exists() && !dir.join("stolen.db.part").exists());
    runtime().block_on(async {
        let channel = client::channel(&address, None).expect("channel");
        let mut w = client::worker_client(channel, "worker-secret").expect("client");
        let r = w
            .lease(v1::LeaseRequest {
                worker_id: "w".into(),
                slots: 4,
                time_left_ms: 0,
                capabilities: Vec::new(),
            })
            .await
            .expect("the worker token works for workers");
        assert!(r.get_ref().leases.is_empty(), "nothing submitted");
    });
}

/// The address a coordinator's log announces after `marker`.
fn announced(log: &str, marker: &str) -> Option<String> {
    let line = log.lines().find(|l| l.contains(marker))?;
    let rest = &line[line.find(marker)? + marker.len()..];
    Some(rest.trim().trim_end_matches("/metrics").to_string())
}

/// `GET /metrics` over a plain TCP connection: status line and body.
fn scrape(addr: &str) -> (String, String) {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(addr).expect("metrics port");
    write!(
        conn,
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut text = String::new();
    conn.read_to_string(&mut text).expect("response");
    let (head, body) = text.split_once("\r\n\r\n").expect("HTTP response");
    (
        head.lines().next().unwrap_or("").to_string(),
        body.to_string(),
    )
}

/// The value of one sample line (`name{labels} value`) in a Prometheus text body.
fn sample(body: &str, series: &str) -> Option<f64> {
    body.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

const SCALING_SWEEP: &str = r#"name = "scaling"
seed = 5
model = "ising2d"
sizes = [8, 16]
temperatures = [2.2, 2.3, 2.4]
replicas = 2

[monte_carlo]
algorithm = "wolff"
thermalize = 100
measurements = 2000
"#;

#[test]
fn keda_scaler_and_metrics_follow_the_queue() {
    use rgsweep_proto::externalscaler::external_scaler_client::ExternalScalerClient;
    use rgsweep_proto::externalscaler::{GetMetricsRequest, ScaledObjectRef};
    let dir = scratch("scaling");
    let c = Coord::start_with(
        &dir,
        None,
        "5",
        "5",
        &["--metrics", "127.0.0.1:0", "--keda", "127.0.0.1:0"],
    );
    let (metrics, keda) = wait_for("the side servers' addresses", 30, || {
        let log = c.proc.log_text();
        Some((
            announced(&log, "metrics on http://")?,
            format!("http://{}", announced(&log, "KEDA external scaler on ")?),
        ))
    });
    let object = |per_worker: Option<&str>| ScaledObjectRef {
        name: "rgsweep-workers".into(),
        namespace: "physics".into(),
        scaler_metadata: per_worker
            .map(|v| [("tasksPerWorker".to_string(), v.to_string())].into())
            .unwrap_or_default(),
    };
    let rt = runtime();
    let mut k = rt
        .block_on(ExternalScalerClient::connect(keda))
        .expect("KEDA port");
    let ask = |k: &mut ExternalScalerClient<tonic::transport::Channel>, per: Option<&str>| {
        rt.block_on(async {
            let active = k.is_active(object(per)).await?.into_inner().result;
            let spec = k.get_metric_spec(object(per)).await?.into_inner();
            let value = k
                .get_metrics(GetMetricsRequest {
                    scaled_object_ref: Some(object(per)),
                    metric_name: spec.metric_specs[0].metric_name.clone(),
                })
                .await?
                .into_inner();
            Ok::<_, tonic::Status>((
                active,
                spec.metric_specs[0].target_size,
                value.metric_values[0].metric_value,
            ))
        })
        .expect("scaler answers")
    };
    // Empty: inactive, nothing to do, one task per worker unless told otherwise.
    assert_eq!(ask(&mut k, None), (false, 1, 0));
    let mut stream = rt
        .block_on(k.stream_is_active(object(None)))
        .expect("stream")
        .into_inner();
    let first = rt
        .block_on(stream.message())
        .expect("message")
        .expect("one");
    assert!(!first.result);
    let (status, body) = scrape(&metrics);
    assert!(status.contains("200"), "{status}");
    assert_eq!(sample(&body, "rgsweep_tasks{state=\"queued\"}"), Some(0.0));
    // A sweep of 12 tasks, no worker: active, 12 open tasks, 3 per worker → KEDA wants 4.
    let file = write(&dir, "sweep.toml", SCALING_SWEEP);
    let id = c.submit(&file)["sweep"].as_str().expect("id").to_string();
    assert_eq!(ask(&mut k, Some("3")), (true, 3, 12));
    let pushed = rt
        .block_on(stream.message())
        .expect("message")
        .expect("one");
    assert!(pushed.result, "the stream pushes the change");
    let (_, body) = scrape(&metrics);
    assert_eq!(sample(&body, "rgsweep_tasks{state=\"queued\"}"), Some(12.0));
    assert_eq!(
        sample(&body, "rgsweep_sweeps{state=\"running\"}"),
        Some(1.0)
    );
    // A bad trigger is refused, naming the field.
    let e = rt
        .block_on(k.is_active(object(Some("lots"))))
        .expect_err("bad metadata");
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().contains("tasksPerWorker"), "{e:?}");
    // A worker drains the queue: inactive again, and the counters match the sweep.
    let _w = c.worker("2", "w1");
    let st = c.wait_state(&id, "done", 120);
    assert_eq!(st["done"].as_u64(), Some(12));
    assert_eq!(ask(&mut k, Some("3")), (false, 3, 0));
    let (_, body) = scrape(&metrics);
    for (series, want) in [
        ("rgsweep_tasks{state=\"done\"}", 12.0),
        ("rgsweep_tasks{state=\"queued\"}", 0.0),
        ("rgsweep_tasks{state=\"leased\"}", 0.0),
        ("rgsweep_completions_total", 12.0),
        ("rgsweep_leases_total", 12.0),
        ("rgsweep_lease_expiries_total", 0.0),
        ("rgsweep_retries_total", 0.0),
        ("rgsweep_sweeps{state=\"done\"}", 1.0),
        ("rgsweep_workers_connected", 1.0),
    ] {
        assert_eq!(sample(&body, series), Some(want), "{series}:\n{body}");
    }
}
