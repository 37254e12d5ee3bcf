//! Laboratory files: sweeps computed exactly, with no sampling, so no tasks, no store and no
//! workers. `rgsweep run` computes one on the spot and writes its table, summary and report
//! like any sweep's; submitting one to a coordinator is refused (there is nothing to queue).
//!
//! The one laboratory so far, `lab = "prx1d"`: the Ising chain's two-spin rules
//! ([`crate::rg::exact1d`]) over a grid of couplings K and RBM weights (λ₁, λ₂).

use super::check::Ctx;
use super::raw::Temperatures;
use super::{SweepError, check_name, expand_grid, from_toml};
use serde::Deserialize;
use toml::Spanned;

/// Most rules one laboratory evaluates (each costs a 2¹⁴-state transform, about a
/// millisecond: a few minutes at this bound).
pub const MAX_RULES: usize = 200_000;

/// Most |λ|: past it every rule is its deterministic limit to rounding, and e^{2λ} overflows
/// not long after.
pub const MAX_LAMBDA: f64 = 1e3;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLab {
    name: Spanned<String>,
    lab: Spanned<String>,
    couplings: Spanned<Temperatures>,
    lambda1: Spanned<Temperatures>,
    lambda2: Spanned<Temperatures>,
}

/// A validated `lab = "prx1d"` file.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Lab {
    pub name: String,
    /// "prx1d".
    pub lab: String,
    /// K = βJ of the chain, ascending.
    pub couplings: Vec<f64>,
    pub lambda1: Vec<f64>,
    pub lambda2: Vec<f64>,
}

#[derive(Deserialize)]
struct LabKey {
    lab: Option<Spanned<toml::Value>>,
}

/// The span of a top-level `lab` key, if the text is TOML and has one.
pub(super) fn lab_key(text: &str) -> Option<std::ops::Range<usize>> {
    toml::from_str::<LabKey>(text)
        .ok()
        .and_then(|k| k.lab)
        .map(|l| l.span())
}

impl Lab {
    /// Whether `text` is a laboratory file (a top-level `lab` key) rather than a sweep.
    pub fn is_lab(text: &str) -> bool {
        lab_key(text).is_some()
    }

    /// Parses and validates a laboratory file; `file` is only used in error messages.
    pub fn parse(text: &str, file: &str) -> Result<Lab, SweepError> {
        let cx = Ctx { file, text };
        let raw: RawLab = from_toml(&cx)?;
        let name = check_name(&cx, &raw.name)?;
        if raw.lab.get_ref() != "prx1d" {
            return Err(cx.err(
                raw.lab.span(),
                "lab",
                format!(
                    "unknown laboratory {:?}; the one there is: \"prx1d\" (the Ising chain's two-spin rules, PRX 10, 011037)",
                    raw.lab.get_ref()
                ),
            ));
        }
        let couplings = expand_grid(&cx, &raw.couplings, "couplings", "coupling")?;
        if let Some(k) = couplings.iter().find(|k| !(**k > 0.0 && **k <= 50.0)) {
            // Past K = 50 the chain's weights e^{±4K} leave f64's range in the six-spin sums.
            return Err(cx.err(
                raw.couplings.span(),
                "couplings",
                format!("each K = βJ must be in (0, 50], got {k}"),
            ));
        }
        let mut lambdas = Vec::new();
        for (field, grid) in [("lambda1", &raw.lambda1), ("lambda2", &raw.lambda2)] {
            let values = expand_grid(&cx, grid, field, "λ")?;
            if let Some(l) = values.iter().find(|l| l.abs() > MAX_LAMBDA) {
                return Err(cx.err(
                    grid.span(),
                    field,
                    format!("each λ must be at most {MAX_LAMBDA} in size, got {l}"),
                ));
            }
            lambdas.push(values);
        }
        let lambda2 = lambdas.pop().unwrap_or_default();
        let lambda1 = lambdas.pop().unwrap_or_default();
        let rules = couplings.len() * (2 + lambda1.len() * lambda2.len());
        if rules > MAX_RULES {
            return Err(cx.err(
                raw.lambda2.span(),
                "lambda2",
                format!(
                    "couplings × (2 + lambda1 × lambda2) = {rules} rules; at most {MAX_RULES}: sweep a coarser grid"
                ),
            ));
        }
        Ok(Lab {
            name,
            lab: raw.lab.into_inner(),
            couplings,
            lambda1,
            lambda2,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "name = \"chain\"\nlab = \"prx1d\"\ncouplings = [0.5, 0.1]\nlambda1 = { start = 0.5, stop = 2.0, step = 0.5 }\nlambda2 = [0, 1]\n";

    #[test]
    fn a_laboratory_file_parses_to_its_grid() {
        assert!(Lab::is_lab(GOOD));
        let lab = Lab::parse(GOOD, "chain.toml").expect("a good file");
        assert_eq!(lab.couplings, [0.1, 0.5]);
        assert_eq!(lab.lambda1, [0.5, 1.0, 1.5, 2.0]);
        assert_eq!(lab.lambda2, [0.0, 1.0]);
        assert!(!Lab::is_lab("name = \"x\"\nseed = 1\n"));
    }

    #[test]
    fn bad_laboratory_files_name_line_and_field() {
        for (text, line, field, says) in [
            (
                GOOD.replace("\"prx1d\"", "\"prx2d\""),
                2,
                "lab",
                "unknown laboratory",
            ),
            (
                GOOD.replace("[0.5, 0.1]", "[0.5, -0.1]"),
                3,
                "couplings",
                "(0, 50]",
            ),
            (
                GOOD.replace("[0, 1]", "[0, 1, 1]"),
                5,
                "lambda2",
                "listed twice",
            ),
            (
                GOOD.replace("[0, 1]", "[0, 1e4]"),
                5,
                "lambda2",
                "at most 1000",
            ),
            (
                GOOD.replace("step = 0.5", "step = 1e-9"),
                4,
                "lambda1",
                "at most 100000",
            ),
            (format!("{GOOD}seed = 3\n"), 6, "seed", "unknown field"),
        ] {
            let e = Lab::parse(&text, "chain.toml").expect_err("a bad file");
            assert_eq!(
                (e.line, e.field.clone()),
                (line, format!("field `{field}`: ")),
                "{e}"
            );
            assert!(e.to_string().contains(says), "{e}");
            assert!(e.to_string().starts_with("chain.toml:"), "{e}");
        }
        let missing =
            Lab::parse("name = \"x\"\nlab = \"prx1d\"\n", "chain.toml").expect_err("no grid");
        assert!(missing.message.contains("couplings"), "{missing}");
    }

    #[test]
    fn a_laboratory_is_not_a_sweep() {
        let e = super::super::Sweep::parse(GOOD, "chain.toml").expect_err("not a sweep");
        assert_eq!((e.line, e.field.as_str()), (2, "field `lab`: "), "{e}");
        assert!(e.message.contains("rgsweep run"), "{e}");
    }
}
