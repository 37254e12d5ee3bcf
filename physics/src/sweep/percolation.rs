//! A percolation sweep: occupation probabilities `p` instead of temperatures, and Newman–Ziff
//! runs in blocks: `replicas` blocks per size, each a task of `monte_carlo.runs` runs (one
//! number, or one per size: small lattices are cheap and want more) — the blocks are the
//! bootstrap's resampling units. What is not percolation's (temperatures,
//! thermalisation, measurements, `[rsmi]`, `[rg]`, samples) is refused with its line.

use super::check::Ctx;
use super::raw::{RawSweep, Runs};
use super::*;
use crate::model::percolation;

pub(super) fn sweep(
    cx: &Ctx,
    raw: &RawSweep,
    name: String,
    seed: u64,
    sizes: Vec<usize>,
) -> Result<Sweep, SweepError> {
    let model = raw.model.get_ref().kind();
    if let Some(t) = &raw.temperatures {
        return Err(cx.err(
            t.span(),
            "temperatures",
            format!("{model} is swept over the occupation probability: give p = [...] or a range, not temperatures"),
        ));
    }
    let Some(raw_p) = &raw.p else {
        return Err(cx.err(
            raw.model.span(),
            "p",
            format!("model {model} is swept over the occupation probability: add p = {{ start, stop, step }} or a list"),
        ));
    };
    let probabilities = expand_grid(cx, raw_p, "p", "probability")?;
    if let Some(x) = probabilities.iter().find(|x| !(0.0..=1.0).contains(*x)) {
        return Err(cx.err(
            raw_p.span(),
            "p",
            format!("occupation probabilities lie in [0, 1], got {x}"),
        ));
    }
    let mc = cx.monte_carlo(raw)?.get_ref();
    cx.samples(raw, model)?;
    let thermal = [
        ("monte_carlo.thermalize", &mc.thermalize),
        ("monte_carlo.measurements", &mc.measurements),
        ("monte_carlo.interval", &mc.interval),
    ];
    for (field, v) in thermal {
        if let Some(v) = v {
            return Err(cx.err(
                v.span(),
                field,
                "Newman–Ziff runs are independent samples: give `runs` (per block), not a Markov chain's settings".into(),
            ));
        }
    }
    let Some(raw_runs) = &mc.runs else {
        return Err(cx.err(
            cx.monte_carlo(raw)?.span(),
            "monte_carlo.runs",
            "needs runs: the Newman–Ziff runs of each block (task)".into(),
        ));
    };
    let dim = model.dim() as u32;
    let per_size: Vec<i64> = match raw_runs.get_ref() {
        Runs::One(r) => vec![*r; sizes.len()],
        Runs::PerSize(list) => {
            if list.len() != raw.sizes.get_ref().len() {
                return Err(cx.err(
                    raw_runs.span(),
                    "monte_carlo.runs",
                    format!(
                        "{} runs for {} sizes: give one number, or one per size in the order of `sizes`",
                        list.len(),
                        raw.sizes.get_ref().len()
                    ),
                ));
            }
            // In the order `sizes` lists them; `sizes` is sorted here.
            let mut pairs: Vec<(i64, i64)> = raw
                .sizes
                .get_ref()
                .iter()
                .map(|s| *s.get_ref())
                .zip(list.iter().copied())
                .collect();
            pairs.sort_unstable();
            pairs.into_iter().map(|(_, r)| r).collect()
        }
    };
    let mut runs_per_size = Vec::with_capacity(sizes.len());
    for (&size, &r) in sizes.iter().zip(&per_size) {
        let sites = (size as u64).pow(dim);
        let most = max_runs(sites);
        if r < 1 || r as u64 > most {
            return Err(cx.err(
                raw_runs.span(),
                "monte_carlo.runs",
                format!("runs per block at L = {size} must be from 1 to {most}, got {r}"),
            ));
        }
        runs_per_size.push(r as u64);
    }
    let largest = sizes.last().copied().unwrap_or(2);
    let blocks = match &raw.replicas {
        Some(r) => cx.positive(r, "replicas", u64::from(MAX_REPLICAS))? as u32,
        None => 1,
    };
    let tasks = (sizes.len() as u64).saturating_mul(u64::from(blocks));
    if tasks > MAX_TASKS as u64 {
        return Err(cx.err(
            raw.replicas.as_ref().map_or(raw.sizes.span(), |r| r.span()),
            "replicas",
            format!(
                "sizes × blocks = {tasks} tasks; at most {MAX_TASKS}: use fewer, larger blocks"
            ),
        ));
    }
    if let Some(g) = model.percolation(largest) {
        let (first, last) = percolation::window(g.elements() as u64, &probabilities);
        let entries = (last - first + 1) * percolation::observables(g.dim).len() as u64;
        if entries > MAX_WINDOW_ENTRIES {
            return Err(cx.err(
                raw_p.span(),
                "p",
                format!(
                    "at L = {largest} the p range covers {} occupation numbers, {entries} stored values per block; at most {MAX_WINDOW_ENTRIES}: narrow the range of p",
                    last - first + 1
                ),
            ));
        }
    }
    let fss = cx.fss(&raw.fss)?;
    let mut fss = fss;
    if raw
        .fss
        .as_ref()
        .is_none_or(|f| f.get_ref().shift_exponent.is_none())
    {
        // The crossings' shift is percolation's own, not the spin default.
        fss.shift_exponent = crate::model::percolation::analysis::SHIFT_EXPONENT;
    }
    Ok(Sweep {
        name,
        seed,
        model,
        q: None,
        sizes,
        temperatures: Vec::new(),
        replicas: blocks,
        monte_carlo: MonteCarlo {
            algorithm: mc.algorithm,
            thermalize: 0,
            measurements: runs_per_size.iter().copied().max().unwrap_or(1),
            interval: 1,
        },
        fss,
        rsmi: None,
        rg: None,
        save_samples: 0,
        task_seconds: cx.task_seconds(&raw.task_seconds)?,
        interaction: None,
        probabilities,
        block_runs: if runs_per_size.windows(2).all(|w| w[0] == w[1]) {
            Vec::new()
        } else {
            runs_per_size
        },
        mazes: None,
        external: None,
    })
}

/// One task per (size, block), largest lattices first.
pub(super) fn tasks(s: &Sweep) -> Vec<crate::task::Task> {
    let mut out = Vec::with_capacity(s.sizes.len() * s.replicas as usize);
    for (k, &size) in s.sizes.iter().enumerate().rev() {
        let mut monte_carlo = s.monte_carlo.clone();
        if let Some(&runs) = s.block_runs.get(k) {
            monte_carlo.measurements = runs;
        }
        for block in 0..s.replicas {
            out.push(crate::task::Task {
                model: s.model,
                q: 2,
                size,
                temperature: 0.0,
                monte_carlo: monte_carlo.clone(),
                first_replica: block,
                replicas: 1,
                rsmi: None,
                rg: None,
                save_samples: 0,
                interaction: None,
                probabilities: s.probabilities.clone(),
                maze: None,
                external: None,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "perc"
seed = 5
model = "percolation2d-site"
sizes = [32, 16]
p = { start = 0.58, stop = 0.61, step = 0.01 }
replicas = 4

[monte_carlo]
algorithm = "newman-ziff"
runs = 100
"#;

    fn err(text: &str) -> SweepError {
        Sweep::parse(text, "p.toml").expect_err("should be rejected")
    }

    #[test]
    fn parses_and_plans_blocks() {
        let s = Sweep::parse(GOOD, "p.toml").expect("valid");
        assert_eq!(s.probabilities, vec![0.58, 0.59, 0.6, 0.61]);
        assert!(s.temperatures.is_empty());
        assert_eq!(s.monte_carlo.measurements, 100, "runs per block");
        let tasks = s.tasks();
        assert_eq!(tasks.len(), 2 * 4);
        assert_eq!((tasks[0].size, tasks[0].first_replica), (32, 0));
        assert!(
            tasks
                .iter()
                .all(|t| t.replicas == 1 && t.temperature == 0.0)
        );
        assert_ne!(
            tasks[0].stream_key(0),
            tasks[1].stream_key(1),
            "each block its own stream"
        );
        // A thermal sweep's canonical form (its id) carries no probabilities.
        let json = serde_json::to_string(&s).expect("serialises");
        assert!(json.contains("probabilities"));
    }

    #[test]
    fn runs_may_differ_per_size() {
        let s =
            Sweep::parse(&GOOD.replace("runs = 100", "runs = [40, 300]"), "p.toml").expect("valid");
        // sizes = [32, 16]: 40 runs at L = 32, 300 at L = 16.
        assert_eq!(s.block_runs, vec![300, 40]);
        let runs: Vec<(usize, u64)> = s
            .tasks()
            .iter()
            .map(|t| (t.size, t.monte_carlo.measurements))
            .collect();
        assert!(
            runs.contains(&(32, 40)) && runs.contains(&(16, 300)),
            "{runs:?}"
        );
        let e = err(&GOOD.replace("runs = 100", "runs = [40]"));
        assert!(e.message.contains("one per size"), "{e}");
    }

    /// What the issue lists: p outside [0, 1], a sampler the model lacks, `temperatures` on
    /// a percolation sweep; and the rest of what is not percolation's.
    #[test]
    fn refusals_name_file_line_and_field() {
        let cases = [
            (GOOD.replace("stop = 0.61", "stop = 1.2"), 6, "p", "[0, 1]"),
            (
                GOOD.replace("\"newman-ziff\"", "\"wolff\""),
                9,
                "monte_carlo.algorithm",
                "newman-ziff",
            ),
            (
                GOOD.replace("replicas = 4", "replicas = 4\ntemperatures = [1.0]"),
                8,
                "temperatures",
                "occupation probability",
            ),
            (
                GOOD.replace("p = { start = 0.58, stop = 0.61, step = 0.01 }", ""),
                4,
                "p",
                "add p",
            ),
            (
                GOOD.replace("runs = 100", "runs = 100\nthermalize = 10"),
                12,
                "monte_carlo.thermalize",
                "runs",
            ),
            (
                GOOD.replace("runs = 100", ""),
                9,
                "monte_carlo.runs",
                "needs runs",
            ),
            (
                format!("{GOOD}\n[rsmi]\nblock = 2\nbuffers = [1]\nenv = 2\nsamples = 10\n"),
                13,
                "rsmi",
                "not offered",
            ),
            (
                GOOD.replace("replicas = 4", "replicas = 4\ninteraction = 1"),
                8,
                "interaction",
                "dimer2d only",
            ),
        ];
        for (text, line, field, says) in cases {
            let e = err(&text);
            assert_eq!(
                (e.file.as_str(), e.line, e.field.as_str()),
                ("p.toml", line, format!("field `{field}`: ").as_str()),
                "{e}"
            );
            assert!(e.message.contains(says), "{e}");
        }
    }

    #[test]
    fn thermal_models_refuse_p_and_runs() {
        let ising = r#"
name = "t"
seed = 3
model = "ising2d"
sizes = [8]
temperatures = [2.2]
p = [0.5]

[monte_carlo]
algorithm = "wolff"
thermalize = 10
measurements = 100
"#;
        let e = err(ising);
        assert_eq!((e.line, e.field.as_str()), (7, "field `p`: "), "{e}");
        let e = err(&ising
            .replace("p = [0.5]\n", "")
            .replace("measurements = 100", "measurements = 100\nruns = 5"));
        assert!(e.field.contains("monte_carlo.runs"), "{e}");
        let e = err(&ising
            .replace("p = [0.5]\n", "")
            .replace("temperatures = [2.2]\n", ""));
        assert!(e.field.contains("temperatures"), "{e}");
    }
}
