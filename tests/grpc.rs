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
            })
            .await
            .expect_err("no token");
        assert_eq!(e.code(), Code::Unauthenticated);
        let mut w = client::worker_client(channel.clone(), &access.token).expect("client");
        let e = w
            .lease(v1::LeaseRequest {
                worker_id: String::new(),
                slots: 1,
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
        };
        // One replica whose energy series has `n` entries (the task asks for 3).
        let result = |n: usize| v1::TaskResult {
            task: Some(task.clone()),
            sites: 16,
            order_norm: 16.0,
            replicas: vec![v1::Series {
                energy: vec![0; n],
                order: vec![0; 3],
            }],
            stats: None,
            rsmi: Vec::new(),
            rg: Vec::new(),
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
    runtime().block_on(async {
        let channel = client::channel(&address, None).expect("channel");
        let mut w = client::worker_client(channel, "worker-secret").expect("client");
        let r = w
            .lease(v1::LeaseRequest {
                worker_id: "w".into(),
                slots: 4,
            })
            .await
            .expect("the worker token works for workers");
        assert!(r.get_ref().leases.is_empty(), "nothing submitted");
    });
}
