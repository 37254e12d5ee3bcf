//! The 2D Ising finite-size-scaling validation (issue acceptance): runs the real binary on
//! `configs/ising2d-fss.toml` (about 5 minutes on 2 cores) and checks every estimate against
//! the exact value (REFERENCE.md §1: Onsager 1944; γ/ν = 7/4, β/ν = 1/8, ν = 1) both in
//! relative terms and in units of its own error bar. Run with
//! `cargo test --release --test science -- --ignored`.

use std::process::Command;

/// Runs `rgsweep run CONFIG --json` into a temporary directory: its summary and the directory.
fn run(config: &str, tag: &str) -> (serde_json::Value, std::path::PathBuf) {
    let out = std::env::temp_dir().join(format!("rgsweep-{tag}-{}", std::process::id()));
    let o = Command::new(env!("CARGO_BIN_EXE_rgsweep"))
        .args(["run", config, "--json", "--out"])
        .arg(&out)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("binary runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (
        serde_json::from_slice(&o.stdout).expect("summary JSON"),
        out,
    )
}

#[test]
#[ignore = "long: about 5 minutes on 2 cores"]
fn ising2d_fss_reproduces_exact_critical_behaviour() {
    let (s, _) = run("configs/ising2d-fss.toml", "science");
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

/// The RG-flow acceptance (REFERENCE.md §4; Koch-Janusz & Ringel, Nature Physics 14, 578,
/// 2018): `configs/ising2d-flows.toml` (about 7 minutes on 2 cores) must give, from the learned
/// RSMI rule, T_c within 1% of Onsager's and ν within 0.15 of 1 from the flow; from the
/// majority rule at the temperature nearest T_c, y_t within 5% of 1 and y_h within 2% of 15/8;
/// and every estimate within 3 of its error bars of the exact value. Run with
/// `cargo test --release --test science -- --ignored --nocapture`.
#[test]
#[ignore = "long: about 6 minutes on 2 cores"]
fn ising2d_flows_find_the_critical_point_and_exponents() {
    let (s, out) = run("configs/ising2d-flows.toml", "flows");
    let rg = &s["rg"];
    for map in ["majority", "rsmi"] {
        for key in ["tc", "nu", "y_t", "y_h", "nu_linearised"] {
            eprintln!("{map} {key}: {}", rg[map][key]);
        }
    }
    for (map, key, exact, tolerance) in [
        ("rsmi", "tc", 2.269_185_314, 0.01 * 2.269_185_314),
        ("rsmi", "nu", 1.0, 0.15),
        ("majority", "y_t", 1.0, 0.05),
        ("majority", "y_h", 1.875, 0.02 * 1.875),
    ] {
        let v = rg[map][key]["value"].as_f64().expect("value");
        let e = rg[map][key]["error"].as_f64().expect("error");
        assert!(
            (v - exact).abs() <= tolerance,
            "{map} {key} = {v}: not within {tolerance} of {exact}"
        );
        assert!(
            (v - exact).abs() <= 3.0 * e,
            "{map} {key} = {v} ± {e}: exact {exact} beyond 3 error bars"
        );
    }
    // The finite-size scaling of the same two sizes on this sparse grid finds the Binder
    // crossing near Onsager's T_c, not the noise crossing in the disordered tail (T = 2.64,
    // before crossings were chosen by their support in error bars).
    let tc = &s["fss"]["tc"];
    let (v, e) = (
        tc["value"].as_f64().expect("value"),
        tc["error"].as_f64().expect("error"),
    );
    assert!(
        (v - 2.269_185_314).abs() <= 3.0 * e && e < 0.005,
        "FSS T_c = {v} ± {e}"
    );
    // Majority rule at the temperature nearest T_c: every size (64, 128) and level (1–3).
    let exponents = rg["majority"]["exponents"].as_array().expect("exponents");
    assert_eq!(exponents.len(), 6);
    for e in exponents {
        let yt = e["y_t"]["value"].as_f64().expect("y_t");
        let yh = e["y_h"]["value"].as_f64().expect("y_h");
        assert!((yt - 1.0).abs() < 0.05, "{e}");
        assert!((yh - 1.875).abs() < 0.02 * 1.875, "{e}");
    }
    // Above T_c every map's K₁ shrinks level by level (flows.csv, one replica per point).
    let flows = std::fs::read_to_string(out.join("flows.csv")).expect("flows.csv");
    for map in ["majority", "decimation", "rsmi"] {
        for t in ["2.6", "3"] {
            let k: Vec<f64> = flows
                .lines()
                .filter(|l| l.starts_with(&format!("ising2d,128,{t},{map},")))
                .filter(|l| l.contains(",nn,"))
                .map(|l| {
                    l.split(',')
                        .nth(6)
                        .and_then(|x| x.parse().ok())
                        .expect("K1")
                })
                .collect();
            assert_eq!(k.len(), 4, "{map} T={t}");
            assert!(k.windows(2).all(|w| w[1] < w[0]), "{map} T={t}: {k:?}");
        }
    }
}

/// Issue 13 at the 2018 paper's scale (`configs/ising2d-flows-paper.toml`, about 25 minutes on
/// 2 cores): the learned RSMI rule's and the majority rule's T_c within 0.2% of Onsager's with
/// the truth inside 3 error bars, the linearised ν = 1/y_t of both rules within 0.05 of 1, and
/// no crossing from the disordered tail among the pairs used (the bug: T_c = 3.37 ± 1.71); the
/// flow's own ν of both rules within 0.05 of 1 with the truth inside 3 error bars and
/// consistent with the linearised ν. (With one replica the majority rule's T_c was −0.30%,
/// 3.0 errors off: two replicas halve the variance.)
#[test]
#[ignore = "long: about 25 minutes on 2 cores"]
fn paper_scale_flows_find_the_critical_point() {
    let (s, _) = run("configs/ising2d-flows-paper.toml", "paper");
    let rg = &s["rg"];
    for map in ["majority", "rsmi"] {
        for key in ["tc", "nu", "y_t", "y_h", "nu_linearised"] {
            eprintln!("{map} {key}: {}", rg[map][key]);
        }
        for c in rg[map]["crossings"].as_array().expect("crossings") {
            let t = c["tc"]["value"].as_f64().expect("T");
            assert!(
                (t - 2.269).abs() < 0.1,
                "{map}: a tail crossing was used: {c}"
            );
        }
        let value = |key: &str| {
            let x = &rg[map][key];
            (
                x["value"].as_f64().expect("value"),
                x["error"].as_f64().expect("error"),
            )
        };
        for key in ["nu_linearised", "nu"] {
            let (v, e) = value(key);
            assert!(
                (v - 1.0).abs() <= 0.05 && (v - 1.0).abs() <= 3.0 * e,
                "{map}: {key} = {v} ± {e}"
            );
        }
        let ((flow, fe), (lin, le)) = (value("nu"), value("nu_linearised"));
        assert!(
            (flow - lin).abs() <= 3.0 * fe.hypot(le),
            "{map}: flow ν {flow} ± {fe} against linearised {lin} ± {le}"
        );
    }
    let exact = 2.269_185_314;
    for map in ["rsmi", "majority"] {
        let tc = &rg[map]["tc"];
        let (v, e) = (
            tc["value"].as_f64().expect("value"),
            tc["error"].as_f64().expect("error"),
        );
        assert!(
            (v - exact).abs() <= 0.002 * exact && (v - exact).abs() <= 3.0 * e,
            "{map} T_c = {v} ± {e}"
        );
    }
}

/// The 3D Ising FSS config (`configs/ising3d-fss.toml`, about 6 minutes on 2 cores): T_c, ν,
/// γ/ν and β/ν each with the literature value inside 3 error bars (REFERENCE.md §1), and ν
/// within 1.5% of 0.6300 (issue 13; with L ≤ 32 it was 2.9% low, L = 48 brought it in).
#[test]
#[ignore = "long: about 7 minutes on 2 cores"]
fn ising3d_fss_agrees_with_the_literature() {
    let (s, _) = run("configs/ising3d-fss.toml", "fss3d");
    let fss = &s["fss"];
    for (key, reference) in [
        ("tc", 4.511_528),
        ("nu", 0.629_97),
        ("gamma_over_nu", 1.963_6),
        ("beta_over_nu", 0.518_1),
    ] {
        let v = fss[key]["value"].as_f64().expect("value");
        let e = fss[key]["error"].as_f64().expect("error");
        eprintln!("{key}: {v} ± {e} (literature {reference})");
        assert!(
            (v - reference).abs() <= 3.0 * e,
            "{key} = {v} ± {e}: {reference} beyond 3 error bars"
        );
    }
    let nu = fss["nu"]["value"].as_f64().expect("ν");
    assert!(
        (nu / 0.63 - 1.0).abs() <= 0.015,
        "ν = {nu}: not within 1.5%"
    );
}

/// RSMI on dimers in the RSMI-NE tutorial geometry (`configs/dimer-rsmi.toml`, about 4 minutes
/// on 2 cores; REFERENCE.md §5, Koch-Janusz & Ringel 2018): at T = 15 the two learned filters
/// are the emergent electric field — at least 90% of their weight in the span of E_x and E_y,
/// covering it (two independent components), decoys at most 5%, the coarse variables'
/// dimension within 10% of the field's 1, and the held-out MI at least the middle of
/// RSMI-NE's range on the same images (0.132–0.168 nats over four runs, README); at T = 1.0,
/// near T_KT, the columnar order instead.
#[test]
#[ignore = "long: about 4 minutes on 2 cores"]
fn dimer_rsmi_learns_the_electric_field() {
    let (s, out) = run("configs/dimer-rsmi.toml", "dimer-rsmi");
    let fields = s["dimers"]["fields"].as_array().expect("fields");
    let at = |t: f64| {
        fields
            .iter()
            .find(|f| f["temperature"].as_f64() == Some(t))
            .expect("a temperature of the config")
    };
    let hot = at(15.0);
    let num = |v: &serde_json::Value, k: &str| v[k].as_f64().expect(k);
    eprintln!("T = 15: {hot}");
    assert!(num(hot, "in_field_span") >= 0.9, "{hot}");
    assert!(num(hot, "field_in_filter_span") >= 0.9, "{hot}");
    assert!(num(hot, "decoy_weight") <= 0.05, "{hot}");
    let delta = num(&hot["dimension"], "value");
    assert!((delta - 1.0).abs() <= 0.1, "Δ = {delta}");
    let csv = std::fs::read_to_string(out.join("rsmi.csv")).expect("rsmi.csv");
    let mi = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|f| f[2] == "15")
        .map(|f| f[7].parse::<f64>().expect("mi"))
        .expect("the T = 15 row");
    assert!(mi >= 0.150, "I(H:E) = {mi} nats at T = 15");
    let near = at(1.0);
    assert!(num(near, "in_columnar_span") >= 0.5, "{near}");
}

/// Reads `{value, error}` of an estimate and checks it within `absolute` of `exact` and within
/// 3 of its own error bars (issue 16's acceptance).
fn within(what: &str, e: &serde_json::Value, exact: f64, absolute: f64) {
    let v = e["value"].as_f64().unwrap_or_else(|| panic!("{what}: {e}"));
    let err = e["error"].as_f64().unwrap_or_else(|| panic!("{what}: {e}"));
    eprintln!(
        "{what}: {v} ± {err} (exact {exact}, {:.1}σ)",
        (v - exact).abs() / err
    );
    assert!(
        (v - exact).abs() <= absolute,
        "{what} = {v}: not within {absolute} of {exact}"
    );
    assert!(
        (v - exact).abs() <= 3.0 * err,
        "{what} = {v} ± {err}: {exact} beyond 3 error bars"
    );
}

/// 2D site percolation (`configs/percolation2d.toml`, under 10 minutes on 2 cores; REFERENCE.md
/// §7): p_c within 3·10⁻⁵ of Jacobsen's 0.59274605, ν within 2% of 4/3, D within 1% of 91/48,
/// R_axis(p_c) on the largest lattice within 0.005 of Pinson's 0.521058, τ within 2% of 187/91,
/// each also within 3 of its error bars.
#[test]
#[ignore = "long: about 6 minutes on 2 cores"]
fn percolation2d_site_finds_p_c_and_the_exponents() {
    let (s, _) = run("configs/percolation2d.toml", "percolation2d");
    let p = &s["percolation"];
    within("p_c", &p["p_c"], 0.592_746_05, 3e-5);
    within("ν", &p["nu"], 4.0 / 3.0, 0.02 * 4.0 / 3.0);
    within(
        "D",
        &p["fractal_dimension"],
        91.0 / 48.0,
        0.01 * 91.0 / 48.0,
    );
    within("τ", &p["tau"], 187.0 / 91.0, 0.02 * 187.0 / 91.0);
    let r = p["at_pc"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e[0] == "R_axis"))
        .and_then(|e| e[1].as_array())
        .and_then(|a| a.last())
        .expect("R_axis at p_c");
    within("R_axis(p_c)", r, 0.521_058_29, 0.005);
}

/// 2D bond percolation (`configs/percolation2d-bond.toml`): p_c = 1/2 within 3·10⁻⁵.
#[test]
#[ignore = "long: about 6 minutes on 2 cores"]
fn percolation2d_bond_finds_one_half() {
    let (s, _) = run("configs/percolation2d-bond.toml", "percolation2d-bond");
    within("p_c", &s["percolation"]["p_c"], 0.5, 3e-5);
}

/// 3D site percolation (`configs/percolation3d.toml`): p_c within 10⁻⁴ of Wang et al.'s
/// 0.3116077, from the crossings of the wrapping probabilities.
#[test]
#[ignore = "long: about 8 minutes on 2 cores"]
fn percolation3d_site_finds_p_c() {
    let (s, _) = run("configs/percolation3d.toml", "percolation3d");
    within("p_c", &s["percolation"]["p_c"], 0.311_607_7, 1e-4);
}
