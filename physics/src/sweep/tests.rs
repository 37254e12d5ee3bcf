use super::*;

const GOOD: &str = r#"
name = "t"
seed = 3
model = "ising2d"
sizes = [16, 8]
temperatures = { start = 2.0, stop = 2.3, step = 0.05 }
replicas = 2

[monte_carlo]
algorithm = "wolff"
thermalize = 10
measurements = 100
"#;

fn err(text: &str) -> SweepError {
    Sweep::parse(text, "s.toml").expect_err("should be rejected")
}

#[test]
fn parses_and_plans() {
    let s = Sweep::parse(GOOD, "s.toml").expect("valid");
    assert_eq!(s.sizes, vec![8, 16]);
    assert_eq!(s.temperatures, vec![2.0, 2.05, 2.1, 2.15, 2.2, 2.25, 2.3]);
    assert_eq!(s.monte_carlo.interval, 1);
    let tasks = s.tasks();
    assert_eq!(tasks.len(), 2 * 7 * 2);
    assert_eq!(tasks[0].size, 16, "largest first");
}

#[test]
fn unknown_key_names_line_and_field() {
    let e = err(&GOOD.replace("replicas = 2", "replicas = 2\ncolour = 1"));
    assert_eq!(e.line, 8);
    assert!(e.message.contains("unknown field `colour`"), "{e}");
}

#[test]
fn bad_values_name_their_field() {
    let e = err(&GOOD.replace("[16, 8]", "[16, 0]"));
    assert_eq!((e.line, e.field.as_str()), (5, "field `sizes`: "));
    let e = err(&GOOD.replace("start = 2.0", "start = -1.0"));
    assert!(e.field.contains("temperatures"), "{e}");
    let e = err(&GOOD.replace("\"wolff\"", "\"glauber\""));
    assert!(e.field.contains("monte_carlo.algorithm"), "{e}");
    assert!(
        e.message.contains("swendsen-wang"),
        "lists allowed values: {e}"
    );
    let e = err(&GOOD.replace("\"ising2d\"", "\"potts2d\""));
    assert!(e.field.contains('q'), "{e}");
    let e = err(&GOOD.replace("\"ising2d\"", "\"potts2d\"\nq = 1"));
    assert!(e.message.contains("q from 2"), "{e}");
    let e = err(&GOOD
        .replace("\"ising2d\"", "\"potts2d\"\nq = 3")
        .replace("\"wolff\"", "\"multispin\""));
    assert!(e.message.contains("multispin"), "{e}");
    let e = err(&GOOD.replace("measurements = 100", "measurements = 0"));
    assert!(e.field.contains("monte_carlo.measurements"), "{e}");
    let e = err("name = \"x\"\nseed = [");
    assert_eq!(e.line, 2, "{e}");
}

#[test]
fn missing_fields_and_oversized_sweeps_are_refused_with_their_names() {
    let e = err(&GOOD.replace("seed = 3\n", ""));
    assert!(e.message.contains("missing field `seed`"), "{e}");
    assert!(
        e.field.is_empty(),
        "a missing key is not blamed on another field: {e}"
    );
    let e = err(&GOOD.replace("step = 0.05", "step = 1e-300"));
    assert!(e.message.contains("at most 100000"), "{e}");
    let e = err(&GOOD.replace("[16, 8]", "[100000]"));
    assert!(
        e.field.contains("sizes") && e.message.contains("8192"),
        "{e}"
    );
    let e = err(&GOOD.replace("measurements = 100", "measurements = 100000000"));
    assert!(e.field.contains("monte_carlo.measurements"), "{e}");
    let e = err(&GOOD.replace("\"ising2d\"", "\"potts2d\""));
    assert_eq!((e.line, e.field.as_str()), (4, "field `q`: "), "{e}");
}

#[test]
fn multispin_groups_replicas() {
    let s = Sweep::parse(
        &GOOD
            .replace("\"wolff\"", "\"multispin\"")
            .replace("replicas = 2", "replicas = 100"),
        "s.toml",
    )
    .expect("valid");
    let per_point: Vec<u32> = s.tasks().iter().take(2).map(|t| t.replicas).collect();
    assert_eq!(per_point, vec![64, 36]);
}

#[test]
fn save_samples_is_checked_and_reaches_every_task() {
    let ok = Sweep::parse(&format!("save_samples = 5\n{GOOD}"), "s.toml").expect("valid");
    assert_eq!(ok.save_samples, 5);
    assert!(ok.tasks().iter().all(|t| t.save_samples == 5));
    let e = err(&format!("save_samples = 500\n{GOOD}"));
    assert!(e.to_string().contains("save_samples"), "{e}");
    let multispin = GOOD.replace("\"wolff\"", "\"multispin\"");
    let e = err(&format!("save_samples = 5\n{multispin}"));
    assert!(e.to_string().contains("multispin"), "{e}");
    // Off by default, and then absent from task keys.
    let plain = Sweep::parse(GOOD, "s.toml").expect("valid");
    assert_eq!(plain.save_samples, 0);
    assert!(
        !serde_json::to_string(&plain.tasks()[0])
            .expect("json")
            .contains("save_samples")
    );
}

#[test]
fn rg_sections_are_checked_against_the_model_and_every_size() {
    use crate::rg::{MapKind, Operator};
    let with = |section: &str| format!("{GOOD}\n[rg]\n{section}");
    let ok = Sweep::parse(&with("levels = 1\nsamples = 50"), "s.toml").expect("valid");
    let r = ok.rg.as_ref().expect("rg");
    // Defaults: majority rule, every operator of the model, ten jackknife blocks.
    assert_eq!(r.maps, vec![MapKind::Majority]);
    assert_eq!(r.operators.len(), Operator::ALL.len());
    assert_eq!((r.levels, r.blocks, r.rsmi.is_none()), (1, 10, true));
    assert!(ok.tasks().iter().all(|t| t.rg.as_deref() == Some(r)));
    let with_rsmi = Sweep::parse(
        &with("maps = [\"rsmi\", \"majority\"]\nlevels = 1\nsamples = 50"),
        "s.toml",
    )
    .expect("valid");
    let r = with_rsmi.rg.expect("rg");
    assert_eq!(r.maps, vec![MapKind::Rsmi, MapKind::Majority]);
    assert!(r.rsmi.is_some());
    // Each rejection names its field; the line is the offending value's.
    for (section, field, says) in [
        (
            "levels = 2\nsamples = 50",
            "rg.levels",
            "L = 8 allows at most 1",
        ),
        (
            "maps = [\"blocking\"]\nlevels = 1\nsamples = 50",
            "rg.maps",
            "unknown map",
        ),
        (
            "maps = []\nlevels = 1\nsamples = 50",
            "rg.maps",
            "at least one",
        ),
        (
            "operators = [\"nn\", \"sixth\"]\nlevels = 1\nsamples = 50",
            "rg.operators",
            "unknown operator",
        ),
        (
            "operators = [\"diagonal\"]\nlevels = 1\nsamples = 50",
            "rg.operators",
            "must include",
        ),
        (
            "operators = [\"nn\", \"nn\"]\nlevels = 1\nsamples = 50",
            "rg.operators",
            "twice",
        ),
        (
            "levels = 1\nsamples = 500",
            "rg.samples",
            "monte_carlo.measurements",
        ),
        (
            "levels = 1\nsamples = 50\nblocks = 1",
            "rg.blocks",
            "at least 2",
        ),
        (
            "maps = [\"rsmi\"]\nlevels = 1\nsamples = 50\nenv = 3",
            "rg",
            "L = 8",
        ),
        (
            "maps = [\"rsmi\"]\nlevels = 1\nsamples = 50\nrule = \"vote\"",
            "rg.rule",
            "sign or sample",
        ),
        ("levels = 1\nsamples = 50\ncolour = 1", "colour", ""),
    ] {
        let e = err(&with(section));
        let text = e.to_string();
        assert!(
            text.contains(field) && text.contains(says),
            "{section}: {text}"
        );
    }
    let e = err(&with("levels = 2\nsamples = 50"));
    assert_eq!(e.line, 15, "{e}");
    // Potts takes the Potts operators and maps; multispin cannot take [rg] at all.
    let potts = GOOD.replace("\"ising2d\"", "\"potts2d\"\nq = 3");
    let ok = Sweep::parse(
        &format!("{potts}\n[rg]\nlevels = 1\nsamples = 50"),
        "s.toml",
    )
    .expect("Potts flows");
    let ops = ok.rg.expect("rg").operators;
    assert!(!ops.contains(&Operator::ThreeSpin) && ops.len() == Operator::ALL.len() - 1);
    let e = err(&format!(
        "{potts}\n[rg]\nmaps = [\"rsmi\"]\nlevels = 1\nsamples = 50"
    ));
    assert!(
        e.to_string().contains("rg.maps") && e.to_string().contains("Ising"),
        "{e}"
    );
    let e = err(&format!(
        "{potts}\n[rg]\noperators = [\"nn\", \"three-spin\"]\nlevels = 1\nsamples = 50"
    ));
    assert!(e.to_string().contains("rg.operators"), "{e}");
    let multispin = GOOD.replace("\"wolff\"", "\"multispin\"");
    let e = err(&format!("{multispin}\n[rg]\nlevels = 1\nsamples = 50"));
    assert!(e.to_string().contains("multispin"), "{e}");
}

#[test]
fn rsmi_sections_are_checked_against_every_size() {
    let with = |section: &str| format!("{GOOD}\n[rsmi]\n{section}");
    let ok = Sweep::parse(
        &with("block = 2\nbuffers = [0, 1]\nenv = 1\nsamples = 50"),
        "s.toml",
    )
    .expect("valid");
    let r = ok.rsmi.as_ref().expect("rsmi");
    assert_eq!((r.block, r.buffers.clone(), r.hidden), (2, vec![0, 1], 1));
    assert!(ok.tasks().iter().all(|t| t.rsmi.as_deref() == Some(r)));
    // L = 8 cannot hold 2 + 2·(2 + 1) = 8? It can; 2 + 2·(3 + 1) = 10 cannot.
    let e = err(&with("block = 2\nbuffers = [0, 3]\nenv = 1\nsamples = 50"));
    assert!(
        e.to_string().contains("rsmi.buffers") && e.to_string().contains("L = 8"),
        "{e}"
    );
    assert_eq!(e.line, 16);
    let e = err(&with(
        "block = 2\nbuffers = [0]\nenv = 1\nsamples = 50\nhidden = 0",
    ));
    assert!(e.to_string().contains("rsmi.hidden"), "{e}");
    let e = err(&with("block = 2\nbuffers = [0]\nenv = 1\nsamples = 500"));
    assert!(e.to_string().contains("rsmi.samples"), "{e}");
    let e = err(&with(
        "block = 2\nbuffers = [0]\nenv = 1\nsamples = 50\ncolour = 1",
    ));
    assert!(e.to_string().contains("colour"), "{e}");
    let e = err(&with("block = 2\nbuffers = []\nenv = 1\nsamples = 50"));
    assert!(e.to_string().contains("rsmi.buffers"), "{e}");
    let e = err(&with(
        "block = 2\nbuffers = [0]\nenv = 1\nsamples = 50\nbound = \"mine\"",
    ));
    assert!(e.to_string().contains("rsmi.bound"), "{e}");
    let multispin = GOOD.replace("\"wolff\"", "\"multispin\"");
    let e = err(&format!(
        "{multispin}\n[rsmi]\nblock = 2\nbuffers = [0]\nenv = 1\nsamples = 50"
    ));
    assert!(e.to_string().contains("multispin"), "{e}");
}

const DIMERS: &str = r#"
name = "d"
seed = 3
model = "dimer2d"
sizes = [8, 16]
temperatures = [0.6, 1.0]

[monte_carlo]
algorithm = "worm"
thermalize = 10
measurements = 100
"#;

#[test]
fn a_dimer_sweep_plans_tasks_with_their_interaction() {
    let s = Sweep::parse(DIMERS, "d.toml").expect("valid");
    assert_eq!(s.interaction, Some(-1));
    let tasks = s.tasks();
    assert_eq!(tasks.len(), 4);
    assert!(tasks.iter().all(|t| t.interaction == Some(-1)));
    let s = Sweep::parse(
        &DIMERS.replace("seed = 3", "seed = 3\ninteraction = 1"),
        "d.toml",
    )
    .expect("repulsive");
    assert_eq!(s.interaction, Some(1));
    // A spin sweep has none, and its tasks' canonical form does not mention it.
    let spin = Sweep::parse(GOOD, "s.toml").expect("valid");
    assert_eq!(spin.interaction, None);
    let json = serde_json::to_string(&spin.tasks()[0]).expect("json");
    assert!(!json.contains("interaction"), "{json}");
}

#[test]
fn what_a_model_does_not_support_is_refused_with_line_and_field() {
    let check = |text: String, line: usize, field: &str, says: &str| {
        let e = err(&text);
        assert_eq!(
            (e.line, e.field.clone()),
            (line, format!("field `{field}`: ")),
            "{e}"
        );
        assert!(e.message.contains(says), "{e}");
    };
    check(DIMERS.replace("[8, 16]", "[8, 7]"), 5, "sizes", "even L");
    check(
        DIMERS.replace("[8, 16]", "[2, 8]"),
        5,
        "sizes",
        "at least 4",
    );
    check(
        DIMERS.replace("\"worm\"", "\"wolff\""),
        8,
        "monte_carlo.algorithm",
        "wolff cannot sample dimer2d; use worm, worm-minimal-bounce, plaquette",
    );
    check(
        GOOD.replace("\"wolff\"", "\"plaquette\""),
        9,
        "monte_carlo.algorithm",
        "plaquette cannot sample ising2d",
    );
    check(
        GOOD.replace("seed = 3", "seed = 3\ninteraction = -1"),
        4,
        "interaction",
        "dimer2d only",
    );
    check(
        DIMERS.replace("seed = 3", "seed = 3\ninteraction = 0"),
        4,
        "interaction",
        "non-zero",
    );
    check(
        format!("{DIMERS}\n[rg]\nmaps = [\"majority\"]\nlevels = 1\nsamples = 10\n"),
        13,
        "rg",
        "which dimer2d does not have",
    );
    check(
        format!("{DIMERS}\n[fss]\nfit_min_size = 8\n"),
        13,
        "fss",
        "which dimer2d does not have",
    );
    let rsmi = |block: usize, stride: usize| {
        format!(
            "{DIMERS}\n[rsmi]\nblock = {block}\nbuffers = [2]\nenv = 2\nsamples = 100\nstride = {stride}\nbatch = 10\n"
        )
    };
    check(rsmi(3, 4), 14, "rsmi.block", "must be even");
    check(rsmi(4, 3), 18, "rsmi.stride", "must be even");
    // In pixels: L = 8 is a 16×16 image, which a block of 4 with buffer and environment 2 fits.
    let s = Sweep::parse(&rsmi(4, 4), "d.toml").expect("an image-sized RSMI region");
    assert_eq!(s.rsmi.map(|r| r.block), Some(4));
    check(
        rsmi(4, 4) + "dimension_size = 8\n",
        20,
        "rsmi.dimension_size",
        "fewer than 8 blocks",
    );
    let s = Sweep::parse(&(rsmi(4, 4) + "dimension_size = 16\n"), "d.toml").expect("valid");
    assert_eq!(s.rsmi.and_then(|r| r.dimension_size), Some(16));
    // Units learned one at a time need more than one unit.
    check(
        rsmi(4, 4) + "stagewise = true\n",
        20,
        "rsmi.stagewise",
        "needs hidden >= 2",
    );
    let s =
        Sweep::parse(&(rsmi(4, 4) + "hidden = 2\nstagewise = true\n"), "d.toml").expect("valid");
    assert!(
        s.rsmi
            .is_some_and(|r| r.stagewise && r.train_settings().stagewise)
    );
    // The critic's leak, the quiet start and restarts: checked where written, absent from the
    // task's settings (and so from its key) at their defaults.
    check(
        rsmi(4, 4) + "critic_leak = 1.5\n",
        20,
        "rsmi.critic_leak",
        "[0, 1)",
    );
    check(
        rsmi(4, 4) + "quiet_steps = -1\n",
        20,
        "rsmi.quiet_steps",
        "non-negative",
    );
    check(
        rsmi(4, 4) + "restarts = 0\n",
        20,
        "rsmi.restarts",
        "from 1 to 16",
    );
    let s = Sweep::parse(
        &(rsmi(4, 4) + "critic_leak = 0.1\nquiet_steps = 600\nrestarts = 3\n"),
        "d.toml",
    )
    .expect("valid");
    let t = s.rsmi.as_ref().map(|r| r.train_settings());
    assert_eq!(
        t.map(|t| (t.critic_leak, t.quiet_steps, t.restarts)),
        Some((0.1, 600, 3))
    );
    let plain = Sweep::parse(&rsmi(4, 4), "d.toml").expect("valid");
    let json = serde_json::to_string(&plain.rsmi).expect("serialises");
    assert!(
        !json.contains("critic_leak")
            && !json.contains("quiet_steps")
            && !json.contains("restarts"),
        "{json}"
    );
    let s = Sweep::parse(
        &DIMERS.replace("seed = 3", "seed = 3\nsave_samples = 5"),
        "d.toml",
    )
    .expect("images saved");
    assert_eq!(s.save_samples, 5);
}

#[cfg(test)]
mod shipped {
    use super::*;

    /// Every sweep file in `configs/` parses and plans: a user's first run of one must not be a
    /// validation error.
    #[test]
    fn every_shipped_config_is_valid() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).expect("configs/") {
            let path = entry.expect("entry").path();
            if path.extension().and_then(|e| e.to_str()) != Some("toml") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("readable");
            let file = path.display().to_string();
            if super::super::lab::Lab::is_lab(&text) {
                let lab =
                    super::super::lab::Lab::parse(&text, &file).unwrap_or_else(|e| panic!("{e}"));
                assert!(!lab.couplings.is_empty(), "{file}");
                seen += 1;
                continue;
            }
            let sweep = Sweep::parse(&text, &file).unwrap_or_else(|e| panic!("{e}"));
            assert!(!sweep.tasks().is_empty(), "{file}");
            seen += 1;
        }
        assert!(seen >= 6, "{seen} configs");
    }
}

#[test]
fn audit_and_rbm_sections_are_checked() {
    use crate::rg::MapKind;
    let with = |section: &str| format!("{GOOD}\n[rg]\n{section}");
    let ok = Sweep::parse(
        &with("maps = [\"rbm\", \"rsmi\"]\nlevels = 1\nsamples = 100\naudit = true\nretrain = true\nwarm_start = true\n[rg.rbm]\nepochs = 7\nbatch = 10"),
        "s.toml",
    )
    .expect("valid");
    let r = ok.rg.as_ref().expect("rg");
    assert_eq!(r.maps, vec![MapKind::Rbm, MapKind::Rsmi]);
    let rbm = r.rbm.as_ref().expect("rbm settings");
    assert_eq!((rbm.epochs, rbm.batch, rbm.cd_steps), (7, 10, 1));
    assert!(r.audit && r.rsmi.as_ref().is_some_and(|x| x.warm_start));
    // Off by default, and then absent from task keys (old sweeps keep their keys).
    let plain = Sweep::parse(&with("levels = 1\nsamples = 50"), "s.toml").expect("valid");
    let key = serde_json::to_string(&plain.tasks()[0]).expect("json");
    assert!(!key.contains("audit") && !key.contains("rbm") && !key.contains("warm_start"));
    for (section, field, says) in [
        (
            "levels = 1\nsamples = 50\n[rg.rbm]\nepochs = 3",
            "rg.rbm",
            "without an RBM map",
        ),
        (
            "maps = [\"rbm-dense\"]\nlevels = 1\nsamples = 50\naudit = true\n[rg.rbm]\ninformation_plane = true",
            "rg.rbm.information_plane",
            "block-local",
        ),
        (
            "maps = [\"rbm\"]\nlevels = 1\nsamples = 50\n[rg.rbm]\nbatch = 40",
            "rg.rbm.batch",
            "fewer than one batch",
        ),
        (
            "maps = [\"rbm\"]\nlevels = 1\nsamples = 50\n[rg.rbm]\nlearning_rate = -1.0",
            "rg.rbm.learning_rate",
            "(0, 10]",
        ),
        (
            "maps = [\"rbm\"]\nlevels = 1\nsamples = 50\n[rg.rbm]\nmomentum = 0.5",
            "momentum",
            "",
        ),
        (
            "levels = 1\nsamples = 20\naudit = true",
            "rg.samples",
            "fewer than one batch",
        ),
        (
            "maps = [\"rbm\"]\nlevels = 1\nsamples = 50\n[rg.rbm]\ninformation_plane = true",
            "rg.rbm.information_plane",
            "rg.audit",
        ),
        (
            "maps = [\"rsmi\"]\nlevels = 1\nsamples = 50\nretrain = false\nwarm_start = true",
            "rg.warm_start",
            "retrain",
        ),
    ] {
        let text = err(&with(section)).to_string();
        assert!(
            text.contains(field) && text.contains(says),
            "{section}: {text}"
        );
    }
    // The dense map reads the level: a lattice it cannot hold is refused, naming the size.
    let dense = Sweep::parse(
        &with("maps = [\"rbm-dense\", \"majority\"]\nlevels = 1\nsamples = 100"),
        "s.toml",
    )
    .expect("valid");
    assert_eq!(
        dense.rg.as_ref().map(|r| r.maps.clone()),
        Some(vec![MapKind::RbmDense, MapKind::Majority])
    );
    assert!(dense.rg.as_ref().is_some_and(|r| r.rbm.is_some()));
    let sizes = GOOD
        .lines()
        .find(|l| l.starts_with("sizes"))
        .expect("sizes");
    let e =
        err(&with("maps = [\"rbm-dense\"]\nlevels = 1\nsamples = 100")
            .replace(sizes, "sizes = [128]"));
    assert!(
        e.to_string().contains("rg.maps") && e.to_string().contains("L = 128"),
        "{e}"
    );
    // The RBM map and the audit are for 2D Ising (RBM) and Ising (audit) models.
    let ising3d = GOOD.replace("\"ising2d\"", "\"ising3d\"");
    let e = err(&format!(
        "{ising3d}\n[rg]\nmaps = [\"rbm\"]\nlevels = 1\nsamples = 50"
    ));
    assert!(
        e.to_string().contains("rg.maps") && e.to_string().contains("2D Ising"),
        "{e}"
    );
    let potts = GOOD.replace("\"ising2d\"", "\"potts2d\"\nq = 3");
    let e = err(&format!(
        "{potts}\n[rg]\nlevels = 1\nsamples = 50\naudit = true"
    ));
    assert!(e.to_string().contains("rg.audit"), "{e}");
}

#[test]
fn autoencoder_sections_are_checked() {
    use crate::rg::MapKind;
    let with = |section: &str| format!("{GOOD}\n[rg]\n{section}");
    let ok = Sweep::parse(
        &with("maps = [\"autoencoder-tanh\", \"autoencoder-relu\"]\nlevels = 1\nsamples = 100\naudit = true\n[rg.autoencoder]\nhidden = 4\nepochs = 7\ninformation_plane = true"),
        "s.toml",
    )
    .expect("valid");
    let r = ok.rg.as_ref().expect("rg");
    assert_eq!(
        r.maps,
        vec![MapKind::AutoencoderTanh, MapKind::AutoencoderRelu]
    );
    let ae = r.autoencoder.as_ref().expect("autoencoder settings");
    assert_eq!((ae.hidden, ae.epochs, ae.batch), (4, 7, 1024));
    assert!(r.plane(MapKind::AutoencoderRelu) && !r.plane(MapKind::Rbm));
    // Defaults without the section.
    let bare = Sweep::parse(
        &with("maps = [\"autoencoder-relu\"]\nlevels = 1\nsamples = 100"),
        "s.toml",
    )
    .expect("valid");
    assert!(bare.rg.as_ref().is_some_and(|r| r.autoencoder.is_some()));
    for (section, field, line, says) in [
        (
            "levels = 1\nsamples = 50\n[rg.autoencoder]\nepochs = 3",
            "rg.autoencoder",
            0,
            "without an autoencoder map",
        ),
        (
            "maps = [\"autoencoder-tanh\"]\nlevels = 1\nsamples = 50\n[rg.autoencoder]\nhidden = 0",
            "rg.autoencoder.hidden",
            5,
            "from 1 to 256",
        ),
        (
            "maps = [\"autoencoder-tanh\"]\nlevels = 1\nsamples = 50\n[rg.autoencoder]\nlearning_rate = 2.0",
            "rg.autoencoder.learning_rate",
            5,
            "(0, 1]",
        ),
        (
            "maps = [\"autoencoder-tanh\"]\nlevels = 1\nsamples = 50\n[rg.autoencoder]\ninformation_plane = true",
            "rg.autoencoder.information_plane",
            5,
            "rg.audit",
        ),
        (
            "maps = [\"autoencoder-tanh\"]\nlevels = 1\nsamples = 50\n[rg.autoencoder]\nchannels = 3",
            "channels",
            0,
            "",
        ),
        (
            "maps = [\"autoencoder\"]\nlevels = 1\nsamples = 50",
            "rg.maps",
            0,
            "",
        ),
    ] {
        let full = with(section);
        let text = err(&full).to_string();
        assert!(
            text.contains(field) && text.contains(says),
            "{section}: {text}"
        );
        if line > 0 {
            // The offending line is the section's line `line` (1-based).
            let wanted = section.lines().nth(line - 1).expect("line");
            let at = 1 + full.lines().position(|l| l == wanted).expect("present");
            assert!(text.contains(&format!(":{at}:")), "{section}: {text}");
        }
    }
    let ising3d = GOOD.replace("\"ising2d\"", "\"ising3d\"");
    let e = err(&format!(
        "{ising3d}\n[rg]\nmaps = [\"autoencoder-relu\"]\nlevels = 1\nsamples = 50"
    ));
    assert!(
        e.to_string().contains("rg.maps") && e.to_string().contains("2D Ising"),
        "{e}"
    );
}
