//! A maze sweep: one training run of the spreading network per (L, n, run), with `[mazes]`
//! giving the depths n and the training, and `replicas` the runs (seeds) per (L, n). What a
//! training run does not take (temperatures, p ranges, `[monte_carlo]`, `[fss]`, `[rsmi]`,
//! `[rg]`, samples) is refused with its line.

use super::check::Ctx;
use super::raw::RawSweep;
use super::*;
use crate::model::maze::train::Settings;

/// The depths and the training every run of a maze sweep shares.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MazeSweep {
    /// The depths n swept, ascending.
    pub layers: Vec<usize>,
    /// Every setting but `layers`, which each task sets from the list above.
    pub training: Settings,
}

pub const MAX_LAYERS: i64 = 1024;
pub const MAX_MAZE_SIZE: i64 = 512;

pub(super) fn sweep(
    cx: &Ctx,
    raw: &RawSweep,
    name: String,
    seed: u64,
    sizes: Vec<usize>,
) -> Result<Sweep, SweepError> {
    let model = raw.model.get_ref().kind();
    let refused = [
        (
            raw.temperatures.as_ref().map(Spanned::span),
            "temperatures",
            "a training run has no temperature",
        ),
        (
            raw.p.as_ref().map(Spanned::span),
            "p",
            "the mazes' occupation is one number: give it as p in [mazes]",
        ),
        (
            raw.monte_carlo.as_ref().map(Spanned::span),
            "monte_carlo",
            "a maze task trains a network: give [mazes], not [monte_carlo]",
        ),
        (
            raw.fss.as_ref().map(Spanned::span),
            "fss",
            "a maze sweep has no finite-size scaling",
        ),
    ];
    for (span, field, why) in refused {
        if let Some(span) = span {
            return Err(cx.err(span, field, why.into()));
        }
    }
    let Some(raw_mazes) = &raw.mazes else {
        return Err(cx.err(
            raw.model.span(),
            "mazes",
            "model mazes needs a [mazes] table: layers = [...] and steps".into(),
        ));
    };
    let m = raw_mazes.get_ref();
    for s in raw.sizes.get_ref() {
        if !(5..=MAX_MAZE_SIZE).contains(s.get_ref()) {
            return Err(cx.err(
                s.span(),
                "sizes",
                format!(
                    "maze sides run from 5 to {MAX_MAZE_SIZE}, got {}",
                    s.get_ref()
                ),
            ));
        }
    }
    let mut layers = Vec::new();
    for n in m.layers.get_ref() {
        let v = *n.get_ref();
        if !(1..=MAX_LAYERS).contains(&v) {
            return Err(cx.err(
                n.span(),
                "mazes.layers",
                format!("a network has from 1 to {MAX_LAYERS} layers, got {v}"),
            ));
        }
        if layers.contains(&(v as usize)) {
            return Err(cx.err(n.span(), "mazes.layers", format!("{v} is listed twice")));
        }
        layers.push(v as usize);
    }
    if layers.is_empty() {
        return Err(cx.err(
            m.layers.span(),
            "mazes.layers",
            "needs at least one depth".into(),
        ));
    }
    layers.sort_unstable();

    let mut t = Settings::new(
        0,
        cx.positive(&m.steps, "mazes.steps", 10_000_000)? as usize,
    );
    if let Some(v) = &m.batch {
        t.batch = cx.positive(v, "mazes.batch", 4096)? as usize;
    }
    if let Some(v) = &m.test {
        t.test = cx.positive(v, "mazes.test", 1_000_000)? as usize;
        if t.test < 10 {
            return Err(cx.err(
                v.span(),
                "mazes.test",
                format!("needs at least 10 test mazes, got {}", t.test),
            ));
        }
    }
    if let Some(v) = m.balanced {
        t.balanced = v;
    }
    let real =
        |v: &Option<Spanned<f64>>, field: &str, ok: &dyn Fn(f64) -> bool, range: &str| match v {
            Some(v) if !ok(*v.get_ref()) => Err(cx.err(
                v.span(),
                field,
                format!("must be {range}, got {}", v.get_ref()),
            )),
            Some(v) => Ok(Some(*v.get_ref())),
            None => Ok(None),
        };
    if let Some(v) = real(&m.p, "mazes.p", &|x| x > 0.0 && x <= 1.0, "in (0, 1]")? {
        t.p = v;
    }
    if let Some(v) = real(
        &m.learning_rate,
        "mazes.learning_rate",
        &|x| x > 0.0 && x <= 1.0,
        "in (0, 1]",
    )? {
        t.learning_rate = v;
    }
    if let Some(v) = real(
        &m.init_scale,
        "mazes.init_scale",
        &|x| (0.0..=10.0).contains(&x),
        "from 0 to 10",
    )? {
        t.init_scale = v;
    }
    if let Some(v) = real(
        &m.gain,
        "mazes.gain",
        &|x| x > 0.0 && x <= 100.0,
        "in (0, 100]",
    )? {
        t.gain = v;
    }
    if let Some(v) = real(
        &m.neglect_threshold,
        "mazes.neglect_threshold",
        &|x| (0.0..=1.0).contains(&x),
        "from 0 to 1",
    )? {
        t.neglect_threshold = v;
    }
    if let Some(v) = &m.landscape {
        let list = v.get_ref();
        if list.is_empty()
            || list.len() > 64
            || list.iter().any(|x| !x.is_finite() || x.abs() > 10.0)
        {
            return Err(cx.err(
                v.span(),
                "mazes.landscape",
                "needs 1 to 64 offsets, each within ±10 (in units of the gain)".into(),
            ));
        }
        t.landscape = list.clone();
    }

    let runs = match &raw.replicas {
        Some(r) => cx.positive(r, "replicas", u64::from(MAX_REPLICAS))? as u32,
        None => 1,
    };
    let tasks = (sizes.len() * layers.len()) as u64 * u64::from(runs);
    if tasks > MAX_TASKS as u64 {
        return Err(cx.err(
            raw.replicas.as_ref().map_or(raw.sizes.span(), |r| r.span()),
            "replicas",
            format!("sizes × layers × runs = {tasks} training runs; at most {MAX_TASKS}"),
        ));
    }
    Ok(Sweep {
        name,
        seed,
        model,
        q: None,
        sizes,
        temperatures: Vec::new(),
        replicas: runs,
        monte_carlo: MonteCarlo {
            algorithm: Algorithm::Adam,
            thermalize: 0,
            measurements: t.steps as u64,
            interval: 1,
        },
        fss: FssSettings::default(),
        rsmi: None,
        rg: None,
        save_samples: 0,
        task_seconds: cx.task_seconds(&raw.task_seconds)?,
        interaction: None,
        probabilities: Vec::new(),
        block_runs: Vec::new(),
        mazes: Some(MazeSweep {
            layers,
            training: t,
        }),
        external: None,
    })
}

/// One task per (size, depth, run): largest mazes and deepest networks first.
pub(super) fn tasks(s: &Sweep, m: &MazeSweep) -> Vec<crate::task::Task> {
    let mut out = Vec::new();
    for &size in s.sizes.iter().rev() {
        for &n in m.layers.iter().rev() {
            for run in 0..s.replicas {
                out.push(crate::task::Task {
                    model: s.model,
                    q: 2,
                    size,
                    temperature: 0.0,
                    monte_carlo: s.monte_carlo.clone(),
                    first_replica: run,
                    replicas: 1,
                    rsmi: None,
                    rg: None,
                    save_samples: 0,
                    interaction: None,
                    probabilities: Vec::new(),
                    maze: Some(Box::new(Settings {
                        layers: n,
                        ..m.training.clone()
                    })),
                    external: None,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "mazes"
seed = 5
model = "mazes"
sizes = [16, 8]
replicas = 3

[mazes]
layers = [8, 2]
steps = 50
batch = 8
test = 100
"#;

    fn err(text: &str) -> SweepError {
        Sweep::parse(text, "m.toml").expect_err("should be rejected")
    }

    #[test]
    fn parses_and_plans_runs() {
        let s = Sweep::parse(GOOD, "m.toml").expect("valid");
        let m = s.mazes.as_ref().expect("a maze sweep");
        assert_eq!(m.layers, vec![2, 8]);
        assert_eq!(m.training.p, crate::model::maze::SITE_P_C);
        let tasks = s.tasks();
        assert_eq!(tasks.len(), 2 * 2 * 3);
        let first = &tasks[0];
        assert_eq!(
            (first.size, first.maze.as_ref().map(|m| m.layers)),
            (16, Some(8))
        );
        let keys: std::collections::BTreeSet<_> = tasks
            .iter()
            .map(|t| t.stream_key(t.first_replica))
            .collect();
        assert_eq!(keys.len(), tasks.len(), "every run its own stream");
        let keys: std::collections::BTreeSet<_> =
            tasks.iter().map(|t| t.content_key(s.seed)).collect();
        assert_eq!(keys.len(), tasks.len());
    }

    #[test]
    fn what_a_training_run_lacks_is_refused_with_its_line() {
        let cases = [
            ("temperatures = [1.0]\n", "temperatures"),
            ("p = [0.5]\n", "p"),
            ("save_samples = 10\n", "save_samples"),
            ("interaction = -1\n", "interaction"),
        ];
        for (line, field) in cases {
            let text = GOOD.replace("replicas = 3\n", &format!("replicas = 3\n{line}"));
            let e = err(&text);
            assert_eq!(e.field, format!("field `{field}`: "), "{e}");
            assert_eq!(e.line, 7, "{e}");
        }
        let e = err(&format!(
            "{GOOD}\n[monte_carlo]\nalgorithm = \"metropolis\"\n"
        ));
        assert!(e.field.contains("`monte_carlo`"), "{e}");
        let e = err(&GOOD.replace("layers = [8, 2]", "layers = [8, 0]"));
        assert_eq!(
            (e.field.as_str(), e.line),
            ("field `mazes.layers`: ", 9),
            "{e}"
        );
        let e = err(&GOOD.replace("batch = 8", "batch = 8\np = 1.5"));
        assert!(e.field.contains("`mazes.p`"), "{e}");
        let e = err(&GOOD.replace("sizes = [16, 8]", "sizes = [16, 4]"));
        assert!(e.field.contains("`sizes`"), "{e}");
        let e = err(&GOOD.replace("[mazes]", "[nothing]"));
        assert!(e.message.contains("nothing"), "{e}");
        let e = err(&GOOD.replace("steps = 50", "steps = 50\nlandscape = []"));
        assert!(e.field.contains("`mazes.landscape`"), "{e}");
    }

    #[test]
    fn a_thermal_sweep_refuses_mazes_and_needs_monte_carlo() {
        let thermal =
            "name = \"t\"\nseed = 1\nmodel = \"ising2d\"\nsizes = [8]\ntemperatures = [2.0]\n";
        let e = err(thermal);
        assert!(e.field.contains("`monte_carlo`"), "{e}");
        let e = err(&format!(
            "{thermal}[monte_carlo]\nalgorithm = \"wolff\"\nthermalize = 10\nmeasurements = 100\n[mazes]\nlayers = [2]\nsteps = 5\n"
        ));
        assert!(e.field.contains("`mazes`"), "{e}");
    }
}
