//! The 2D Ising finite-size-scaling validation (issue acceptance): runs the real binary on
//! `configs/ising2d-fss.toml` (about 5 minutes on 2 cores) and checks every estimate against
//! the exact value (REFERENCE.md §1: Onsager 1944; γ/ν = 7/4, β/ν = 1/8, ν = 1) both in
//! relative terms and in units of its own error bar. Run with
//! `cargo test --release --test science -- --ignored`.

use std::process::Command;

#[test]
#[ignore = "long: about 5 minutes on 2 cores"]
fn ising2d_fss_reproduces_exact_critical_behaviour() {
    let out = std::env::temp_dir().join(format!("rgsweep-science-{}", std::process::id()));
    let o = Command::new(env!("CARGO_BIN_EXE_rgsweep"))
        .args(["run", "configs/ising2d-fss.toml", "--json", "--out"])
        .arg(&out)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("binary runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s: serde_json::Value = serde_json::from_slice(&o.stdout).expect("summary JSON");
    let fss = &s["fss"];
    for (key, exact, relative) in [
        ("tc", 2.269_185_314, 0.002),
        ("nu", 1.0, 0.03),
        ("gamma_over_nu", 1.75, 0.02),
        ("beta_over_nu", 0.125, 0.05),
    ] {
        let v = fss[key]["value"].as_f64().expect("value");
        let e = fss[key]["error"].as_f64().expect("error");
        eprintln!("{key}: {v} ± {e} (exact {exact})");
        assert!(
            (v - exact).abs() <= relative * exact,
            "{key} = {v}: not within {relative} of {exact}"
        );
        assert!(
            (v - exact).abs() <= 3.0 * e,
            "{key} = {v} ± {e}: exact {exact} beyond 3 error bars"
        );
    }
}
