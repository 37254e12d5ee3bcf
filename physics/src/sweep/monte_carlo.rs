//! `[monte_carlo]`: the table a built-in sampler's sweep needs, checked against its model.

use super::check::Ctx;
use super::raw::*;
use super::*;

impl Ctx<'_> {
    /// The `[monte_carlo]` table, which every model but mazes needs.
    pub(super) fn monte_carlo<'r>(
        &self,
        raw: &'r RawSweep,
    ) -> Result<&'r Spanned<RawMonteCarlo>, SweepError> {
        raw.monte_carlo.as_ref().ok_or_else(|| {
            self.err(
                raw.model.span(),
                "monte_carlo",
                format!(
                    "model {} needs a [monte_carlo] table naming its algorithm ({})",
                    raw.model.get_ref().kind(),
                    Algorithm::names_for(raw.model.get_ref().kind())
                ),
            )
        })
    }

    /// A built-in model's `[monte_carlo]`: an algorithm that samples it, thermalize and
    /// measurements (at least 16, for error bars), the interval; with the span errors about
    /// the measurements point at.
    pub(super) fn built_in_monte_carlo(
        &self,
        raw: &RawSweep,
        model: ModelKind,
    ) -> Result<(MonteCarlo, std::ops::Range<usize>), SweepError> {
        let table = self.monte_carlo(raw)?;
        let mc = table.get_ref();
        if mc.algorithm == Algorithm::Multispin && model.is_spin() && !model.is_ising() {
            return Err(self.err(
                table.span(),
                "monte_carlo.algorithm",
                format!(
                    "multispin is bit-packed Ising and cannot run {model}; use metropolis, heatbath, wolff or swendsen-wang"
                ),
            ));
        }
        if mc.algorithm == Algorithm::External {
            return Err(self.err(
                table.span(),
                "monte_carlo.algorithm",
                "a registered program samples with model = \"external\" and sampler = \"NAME\", not through [monte_carlo]".into(),
            ));
        }
        self.samples(raw, model)?;
        if let Some(r) = &mc.runs {
            return Err(self.err(
                r.span(),
                "monte_carlo.runs",
                format!("runs are Newman–Ziff's, for percolation models; {model} takes thermalize and measurements"),
            ));
        }
        let (Some(raw_thermalize), Some(raw_measurements)) = (&mc.thermalize, &mc.measurements)
        else {
            return Err(self.err(
                table.span(),
                "monte_carlo",
                "needs thermalize and measurements".into(),
            ));
        };
        let thermalize = self.non_negative(raw_thermalize, "monte_carlo.thermalize")?;
        let measurements = self.positive(
            raw_measurements,
            "monte_carlo.measurements",
            MAX_MEASUREMENTS,
        )?;
        if measurements < 16 {
            return Err(self.err(
                raw_measurements.span(),
                "monte_carlo.measurements",
                format!("needs at least 16 measurements for error bars, got {measurements}"),
            ));
        }
        let interval = match &mc.interval {
            Some(i) => self.positive(i, "monte_carlo.interval", MAX_INTERVAL)?,
            None => 1,
        };
        Ok((
            MonteCarlo {
                algorithm: mc.algorithm,
                thermalize,
                measurements,
                interval,
            },
            raw_measurements.span(),
        ))
    }

    /// `[monte_carlo] algorithm` must sample `model`.
    pub(super) fn samples(&self, raw: &RawSweep, model: ModelKind) -> Result<(), SweepError> {
        let algorithm = self.monte_carlo(raw)?.get_ref().algorithm;
        if algorithm.runs(model) {
            return Ok(());
        }
        Err(self.err(
            self.monte_carlo(raw)?.span(),
            "monte_carlo.algorithm",
            format!(
                "{algorithm} cannot sample {model}; use {}",
                Algorithm::names_for(model)
            ),
        ))
    }
}
