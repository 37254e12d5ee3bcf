//! Validation of the sweep file's sections, each error naming file, line and field.

use super::raw::*;
use super::*;

pub(super) struct Ctx<'a> {
    pub(super) file: &'a str,
    pub(super) text: &'a str,
}

impl Ctx<'_> {
    /// What only some models take: `interaction` is dimer2d's; `[fss]` and `[rg]` need a spin
    /// model or percolation's own scaling (`[rsmi]` and `save_samples` take dimers' image
    /// encoding; percolation takes neither).
    /// Returns the interaction of a dimer sweep.
    pub(super) fn model_support(
        &self,
        raw: &RawSweep,
        model: ModelKind,
    ) -> Result<Option<i64>, SweepError> {
        if let (true, Some(v)) = (model.is_spin() || !model.is_thermal(), &raw.interaction) {
            return Err(self.err(
                v.span(),
                "interaction",
                format!("interaction applies to dimer2d only, not to {model}"),
            ));
        }
        if model.is_spin() {
            return Ok(None);
        }
        if !model.is_thermal() {
            // Percolation has clusters, not configurations a network or a map reads; a maze
            // task's mazes are drawn inside its training.
            let none = [
                (raw.rsmi.as_ref().map(Spanned::span), "rsmi"),
                (raw.rg.as_ref().map(Spanned::span), "rg"),
                (raw.save_samples.as_ref().map(Spanned::span), "save_samples"),
            ];
            for (span, field) in none {
                if let Some(span) = span {
                    return Err(self.err(
                        span,
                        field,
                        if model.is_maze() {
                            format!("{field} is not offered for {model}: a maze sweep trains networks on the mazes it draws")
                        } else {
                            format!("{field} is not offered for {model}: a percolation sweep measures wrapping, clusters and their sizes")
                        },
                    ));
                }
            }
            return Ok(None);
        }
        let spin_only = [
            (
                raw.fss.as_ref().map(Spanned::span),
                "fss",
                "a scalar order parameter (finite-size scaling of its Binder cumulant)",
            ),
            (
                raw.rg.as_ref().map(Spanned::span),
                "rg",
                "site spins (the RG maps coarse-grain them)",
            ),
        ];
        for (span, field, what) in spin_only {
            if let Some(span) = span {
                return Err(self.err(
                    span,
                    field,
                    format!("{field} works on {what}, which {model} does not have"),
                ));
            }
        }
        match &raw.interaction {
            Some(v) => {
                let x = *v.get_ref();
                if x == 0 || x.abs() > 1000 {
                    return Err(self.err(
                        v.span(),
                        "interaction",
                        format!("must be a non-zero integer from -1000 to 1000, got {x}"),
                    ));
                }
                Ok(Some(x))
            }
            None => Ok(Some(-1)),
        }
    }

    /// `[fss]`: fit sizes, shift and correction exponents, bootstrap replicates.
    pub(super) fn fss(&self, raw: &Option<Spanned<RawFss>>) -> Result<FssSettings, SweepError> {
        let mut fss = FssSettings::default();
        if let Some(f) = raw {
            let f = f.get_ref();
            if let Some(v) = &f.fit_min_size {
                fss.fit_min_size = self.non_negative(v, "fss.fit_min_size")? as usize;
            }
            if let Some(v) = &f.shift_exponent {
                let x = *v.get_ref();
                if !(x.is_finite() && x > 0.0) {
                    return Err(self.err(
                        v.span(),
                        "fss.shift_exponent",
                        format!("must be a positive number, got {x}"),
                    ));
                }
                fss.shift_exponent = x;
            }
            if let Some(v) = &f.correction_exponent {
                let x = *v.get_ref();
                if !(x.is_finite() && x > 0.0 && x <= 10.0) {
                    return Err(self.err(
                        v.span(),
                        "fss.correction_exponent",
                        format!("must be a positive number up to 10, got {x}"),
                    ));
                }
                fss.correction_exponent = Some(x);
            }
            if let Some(v) = &f.bootstrap {
                fss.bootstrap = self.positive(v, "fss.bootstrap", 100_000)? as usize;
                if fss.bootstrap < 20 {
                    return Err(self.err(
                        v.span(),
                        "fss.bootstrap",
                        format!(
                            "needs at least 20 replicates for an error bar, got {}",
                            fss.bootstrap
                        ),
                    ));
                }
            }
        }
        Ok(fss)
    }

    /// `task_seconds`: the expected seconds of the sweep's largest task.
    pub(super) fn task_seconds(
        &self,
        raw: &Option<Spanned<f64>>,
    ) -> Result<Option<f64>, SweepError> {
        Ok(match raw {
            Some(t) => {
                let x = *t.get_ref();
                if !(x.is_finite() && x > 0.0) {
                    return Err(self.err(
                        t.span(),
                        "task_seconds",
                        format!("must be a positive number of seconds, got {x}"),
                    ));
                }
                Some(x)
            }
            None => None,
        })
    }

    pub(super) fn err(
        &self,
        span: std::ops::Range<usize>,
        field: &str,
        message: String,
    ) -> SweepError {
        let (line, column) = line_col(self.text, span.start);
        SweepError {
            file: self.file.to_string(),
            line,
            column,
            field: if field.is_empty() {
                String::new()
            } else {
                format!("field `{field}`: ")
            },
            message,
        }
    }

    pub(super) fn positive(
        &self,
        v: &Spanned<i64>,
        field: &str,
        max: u64,
    ) -> Result<u64, SweepError> {
        let x = *v.get_ref();
        if x < 1 || x as u64 > max {
            return Err(self.err(
                v.span(),
                field,
                format!("must be an integer from 1 to {max}, got {x}"),
            ));
        }
        Ok(x as u64)
    }

    /// Validates `[rsmi]` against the model, every size and the Monte Carlo settings, so a bad
    /// geometry is refused at submit, not discovered by a worker.
    pub(super) fn rsmi(
        &self,
        r: &Spanned<RawRsmi>,
        (model, q): (ModelKind, u8),
        sizes: &[usize],
        algorithm: Algorithm,
        measurements: u64,
    ) -> Result<RsmiSweep, SweepError> {
        use crate::rsmi::{Bound, Geometry};
        let raw = r.get_ref();
        if algorithm == Algorithm::Multispin {
            return Err(self.err(
                r.span(),
                "rsmi",
                "RSMI needs whole configurations; multispin keeps 64 replicas in bit planes: use wolff, swendsen-wang, metropolis or heatbath".into(),
            ));
        }
        let block = self.positive(&raw.block, "rsmi.block", 1024)? as usize;
        // A dimer image's sites are 2×2 cells: blocks must hold whole cells and sit on cell
        // corners, or a filter's pixels would not be the same bonds from block to block.
        if model == ModelKind::Dimer2d && !block.is_multiple_of(2) {
            return Err(self.err(
                raw.block.span(),
                "rsmi.block",
                format!(
                    "a dimer image's cells are 2×2 pixels: the block must be even, got {block}"
                ),
            ));
        }
        let env = self.positive(&raw.env, "rsmi.env", 1024)? as usize;
        if raw.buffers.get_ref().is_empty() {
            return Err(self.err(
                raw.buffers.span(),
                "rsmi.buffers",
                "needs at least one buffer width".into(),
            ));
        }
        let mut buffers = Vec::new();
        for b in raw.buffers.get_ref() {
            let buffer = self.width(b, "rsmi.buffers")?;
            if buffers.contains(&buffer) {
                return Err(self.err(
                    b.span(),
                    "rsmi.buffers",
                    format!("buffer {buffer} is listed twice"),
                ));
            }
            for &size in sizes {
                if let Err(e) =
                    Geometry::new(model.dim(), model.sample_size(size), block, buffer, env)
                {
                    return Err(self.err(b.span(), "rsmi.buffers", e.to_string()));
                }
            }
            buffers.push(buffer);
        }
        let hidden = match &raw.hidden {
            Some(h) => self.positive(h, "rsmi.hidden", 64)? as usize,
            None => 1,
        };
        let samples = self.positive(&raw.samples, "rsmi.samples", 10_000_000)?;
        if samples < 10 || samples > measurements {
            return Err(self.err(
                raw.samples.span(),
                "rsmi.samples",
                format!("must be from 10 to monte_carlo.measurements ({measurements}): configurations are taken from the measured chain; got {samples}"),
            ));
        }
        let stride = match &raw.stride {
            Some(s) => {
                let v = self.positive(s, "rsmi.stride", 1 << 20)? as usize;
                if model == ModelKind::Dimer2d && !v.is_multiple_of(2) {
                    return Err(self.err(
                        s.span(),
                        "rsmi.stride",
                        format!(
                            "a dimer image's cells are 2×2 pixels: the stride must be even, got {v}"
                        ),
                    ));
                }
                Some(v)
            }
            None => None,
        };
        let bound = match &raw.bound {
            Some(b) => Bound::parse(b.get_ref()).ok_or_else(|| {
                self.err(
                    b.span(),
                    "rsmi.bound",
                    format!("unknown bound {:?}; infonce or nwj", b.get_ref()),
                )
            })?,
            None => Bound::InfoNce,
        };
        let d = crate::rsmi::TrainSettings::default();
        let batch = match &raw.batch {
            Some(b) => self.positive(b, "rsmi.batch", 100_000)? as usize,
            None => d.batch,
        };
        if batch < 2 {
            return Err(self.err(
                raw.batch.as_ref().map_or(r.span(), |b| b.span()),
                "rsmi.batch",
                "must be at least 2".into(),
            ));
        }
        let max_epochs = match &raw.max_epochs {
            Some(e) => self.positive(e, "rsmi.max_epochs", 100_000)? as usize,
            None => d.max_epochs,
        };
        let learning_rate = match &raw.learning_rate {
            Some(l) => {
                let x = *l.get_ref();
                if !(x > 0.0 && x < 1.0) {
                    return Err(self.err(
                        l.span(),
                        "rsmi.learning_rate",
                        format!("must be in (0, 1), got {x}"),
                    ));
                }
                x
            }
            None => d.learning_rate,
        };
        let dimension_size = match &raw.dimension_size {
            None => None,
            Some(v) if model != ModelKind::Dimer2d => {
                return Err(self.err(
                    v.span(),
                    "rsmi.dimension_size",
                    format!("the emergent dimension is measured for dimer2d only, not {model}"),
                ));
            }
            Some(v) => {
                let l = self.positive(v, "rsmi.dimension_size", 1024)? as usize;
                if let Some(why) = model.size_error(l) {
                    return Err(self.err(v.span(), "rsmi.dimension_size", why));
                }
                if 2 * l < 8 * block {
                    return Err(self.err(
                        v.span(),
                        "rsmi.dimension_size",
                        format!("L = {l} is a {}-pixel image: fewer than 8 blocks of {block} a side to fit correlations over", 2 * l),
                    ));
                }
                Some(l)
            }
        };
        let stagewise = match &raw.stagewise {
            Some(s) if *s.get_ref() && hidden < 2 => {
                return Err(self.err(
                    s.span(),
                    "rsmi.stagewise",
                    format!("learns units one at a time: it needs hidden >= 2, got {hidden}"),
                ));
            }
            Some(s) => *s.get_ref(),
            None => false,
        };
        let critic_leak = match &raw.critic_leak {
            Some(l) => {
                let x = *l.get_ref();
                if !(0.0..1.0).contains(&x) {
                    return Err(self.err(
                        l.span(),
                        "rsmi.critic_leak",
                        format!("the slope below zero must be in [0, 1), got {x}"),
                    ));
                }
                x
            }
            None => 0.0,
        };
        let quiet_steps = match &raw.quiet_steps {
            Some(v) => {
                let n = self.non_negative(v, "rsmi.quiet_steps")?;
                if n > 10_000_000 {
                    return Err(self.err(
                        v.span(),
                        "rsmi.quiet_steps",
                        format!("at most 10000000 steps, got {n}"),
                    ));
                }
                n as usize
            }
            None => 0,
        };
        let restarts = match &raw.restarts {
            Some(v) => {
                self.positive(v, "rsmi.restarts", crate::rsmi::MAX_RESTARTS as u64)? as usize
            }
            None => 1,
        };
        let settings = RsmiSweep {
            block,
            buffers,
            env,
            hidden,
            samples,
            stride,
            bound,
            batch,
            max_epochs,
            learning_rate,
            dimension_size,
            stagewise,
            critic_leak,
            quiet_steps,
            restarts,
        };
        // Each replica's samples are split 60/20/20 (train/validation/held-out), and blocks are
        // taken at every corner: every part must hold at least one batch of pairs.
        for &size in sizes {
            let job = settings
                .job(model, 2, size, settings.buffers[0])
                .map_err(|e| self.err(r.span(), "rsmi", e.to_string()))?;
            let per_config = job.corner_count();
            let held_out = (job.split(samples as usize).2 as u64).saturating_mul(per_config);
            if held_out < batch as u64 {
                return Err(self.err(
                    raw.samples.span(),
                    "rsmi.samples",
                    format!(
                        "L = {size}: a fifth of {samples} configurations × {per_config} blocks = {held_out} held-out pairs, fewer than one batch of {batch}; take more samples or a smaller stride"
                    ),
                ));
            }
            for &buffer in &settings.buffers {
                let job = settings
                    .job(model, q, size, buffer)
                    .map_err(|e| self.err(r.span(), "rsmi", e.to_string()))?;
                let bytes = job.pair_bytes(samples);
                if bytes > MAX_PAIR_BYTES {
                    return Err(self.err(
                        raw.samples.span(),
                        "rsmi.samples",
                        format!(
                            "L = {size}, buffer {buffer}: {samples} configurations × {per_config} blocks make {bytes} bytes of training pairs; at most {MAX_PAIR_BYTES}: take fewer samples, a larger stride or a smaller env"
                        ),
                    ));
                }
            }
        }
        Ok(settings)
    }

    /// Validates `[rg]` against the model, every size and the Monte Carlo settings: a map,
    /// operator or level count a lattice cannot take is refused at submit.
    pub(super) fn rg(
        &self,
        r: &Spanned<RawRg>,
        (model, q): (ModelKind, u8),
        sizes: &[usize],
        algorithm: Algorithm,
        measurements: u64,
    ) -> Result<crate::rg::Settings, SweepError> {
        use crate::rg::Operator;
        use crate::rg::flow::{MapKind, RsmiRule, Rule, Settings};
        let raw = r.get_ref();
        if algorithm == Algorithm::Multispin {
            return Err(self.err(
                r.span(),
                "rg",
                "RG flows need whole configurations; multispin keeps 64 replicas in bit planes: use wolff, swendsen-wang, metropolis or heatbath".into(),
            ));
        }
        let dim = model.dim();
        let mut maps = Vec::new();
        match &raw.maps {
            None => maps.push(MapKind::Majority),
            Some(list) => {
                if list.get_ref().is_empty() {
                    return Err(self.err(list.span(), "rg.maps", "needs at least one map".into()));
                }
                for m in list.get_ref() {
                    let map = MapKind::parse(m.get_ref()).ok_or_else(|| {
                        self.err(
                            m.span(),
                            "rg.maps",
                            format!(
                                "unknown map {:?}; one of majority, decimation, rsmi",
                                m.get_ref()
                            ),
                        )
                    })?;
                    if maps.contains(&map) {
                        return Err(self.err(
                            m.span(),
                            "rg.maps",
                            format!("{} is listed twice", map.name()),
                        ));
                    }
                    if map == MapKind::Rsmi && q > 2 {
                        return Err(self.err(
                            m.span(),
                            "rg.maps",
                            "the RSMI map learns one binary unit per block, a coarse Ising spin: it is for Ising models, not Potts".into(),
                        ));
                    }
                    maps.push(map);
                }
            }
        }
        let levels = self.positive(&raw.levels, "rg.levels", 64)? as usize;
        for &size in sizes {
            let most = Settings::max_levels(size);
            if levels > most {
                return Err(self.err(
                    raw.levels.span(),
                    "rg.levels",
                    format!(
                        "L = {size} allows at most {most} levels (each halves the lattice, down to {} sites per side), got {levels}",
                        crate::rg::flow::MIN_COARSE_SIZE
                    ),
                ));
            }
        }
        let mut operators = Vec::new();
        match &raw.operators {
            None => operators.extend(Operator::ALL.into_iter().filter(|o| o.exists_for(dim, q))),
            Some(list) => {
                for o in list.get_ref() {
                    let op = Operator::parse(o.get_ref()).ok_or_else(|| {
                        self.err(
                            o.span(),
                            "rg.operators",
                            format!(
                                "unknown operator {:?}; one of {}",
                                o.get_ref(),
                                Operator::ALL.map(|o| o.name()).join(", ")
                            ),
                        )
                    })?;
                    if !op.exists_for(dim, q) {
                        return Err(self.err(
                            o.span(),
                            "rg.operators",
                            format!("{} does not exist for {model} ({dim}D)", op.name()),
                        ));
                    }
                    if operators.contains(&op) {
                        return Err(self.err(
                            o.span(),
                            "rg.operators",
                            format!("{} is listed twice", op.name()),
                        ));
                    }
                    operators.push(op);
                }
                if !operators.contains(&Operator::NearestNeighbour) {
                    return Err(self.err(
                        list.span(),
                        "rg.operators",
                        "must include \"nn\": the flow is followed (and T_c found) by the nearest-neighbour coupling".into(),
                    ));
                }
            }
        }
        let blocks = match &raw.blocks {
            Some(b) => self.positive(b, "rg.blocks", 1000)? as usize,
            None => 10,
        };
        if blocks < 2 {
            return Err(self.err(
                raw.blocks.as_ref().map_or(r.span(), |b| b.span()),
                "rg.blocks",
                "needs at least 2 jackknife blocks".into(),
            ));
        }
        let samples = self.positive(&raw.samples, "rg.samples", 10_000_000)?;
        if samples < 2 * blocks as u64 || samples > measurements {
            return Err(self.err(
                raw.samples.span(),
                "rg.samples",
                format!(
                    "must be from 2 × rg.blocks ({}) to monte_carlo.measurements ({measurements}): configurations are taken from the measured chain; got {samples}",
                    2 * blocks
                ),
            ));
        }
        let rsmi = if maps.contains(&MapKind::Rsmi) {
            let d = RsmiRule::default();
            let mut rule = RsmiRule {
                retrain: raw.retrain.unwrap_or(d.retrain),
                warm_start: raw.warm_start.unwrap_or(d.warm_start),
                ..d
            };
            if rule.warm_start && !rule.retrain {
                return Err(self.err(
                    r.span(),
                    "rg.warm_start",
                    "needs retrain = true: a rule learned once on level 0 has no level below to start from".into(),
                ));
            }
            if let Some(x) = &raw.rule {
                rule.rule = match x.get_ref().as_str() {
                    "sign" => Rule::Sign,
                    "sample" => Rule::Sample,
                    other => {
                        return Err(self.err(
                            x.span(),
                            "rg.rule",
                            format!("unknown rule {other:?}; sign or sample"),
                        ));
                    }
                };
            }
            if let Some(b) = &raw.buffer {
                rule.buffer = self.width(b, "rg.buffer")?;
            }
            if let Some(e) = &raw.env {
                rule.env = self.positive(e, "rg.env", 1024)? as usize;
            }
            if let Some(b) = &raw.batch {
                rule.batch = self.positive(b, "rg.batch", 100_000)? as usize;
                if rule.batch < 2 {
                    return Err(self.err(b.span(), "rg.batch", "must be at least 2".into()));
                }
            }
            if let Some(e) = &raw.max_epochs {
                rule.max_epochs = self.positive(e, "rg.max_epochs", 100_000)? as usize;
            }
            let field = raw
                .buffer
                .as_ref()
                .or(raw.env.as_ref())
                .map_or(r.span(), |x| x.span());
            for &size in sizes {
                for l in rule.training_sizes(size, levels) {
                    let job = rule.job(dim, l).map_err(|e| {
                        self.err(
                            field.clone(),
                            "rg",
                            format!(
                                "the RSMI map is trained on lattices of L = {l} (from L = {size}): {e}; reduce rg.buffer or rg.env"
                            ),
                        )
                    })?;
                    let held_out =
                        (job.split(samples as usize).2 as u64).saturating_mul(job.corner_count());
                    if held_out < rule.batch as u64 {
                        return Err(self.err(
                            raw.samples.span(),
                            "rg.samples",
                            format!(
                                "the RSMI map on L = {l}: {held_out} held-out pairs, fewer than one batch of {}; take more samples",
                                rule.batch
                            ),
                        ));
                    }
                    let bytes = job.pair_bytes(samples);
                    if bytes > MAX_PAIR_BYTES {
                        return Err(self.err(
                            raw.samples.span(),
                            "rg.samples",
                            format!(
                                "the RSMI map on L = {l}: {samples} configurations make {bytes} bytes of training pairs; at most {MAX_PAIR_BYTES}: take fewer samples"
                            ),
                        ));
                    }
                }
            }
            Some(rule)
        } else {
            None
        };
        let rbm = self.rg_rbm(r, &maps, dim, q, samples, sizes)?;
        let autoencoder = self.rg_autoencoder(r, &maps, dim, q, samples)?;
        let audit = raw.audit.as_ref().is_some_and(|a| *a.get_ref());
        let settings = Settings {
            maps,
            levels,
            operators,
            samples,
            blocks,
            rsmi,
            rbm,
            autoencoder,
            audit,
        };
        if let Some(a) = &raw.audit
            && audit
        {
            if q != 2 {
                return Err(self.err(
                    a.span(),
                    "rg.audit",
                    "the audit measures binary coarse spins: it is for Ising models".into(),
                ));
            }
            let rule = settings.audit_rule();
            for &size in sizes {
                for n in 0..levels {
                    crate::rg::flow::audit_fits(&rule, dim, size >> n, samples).map_err(|e| {
                        self.err(
                            raw.samples.span(),
                            "rg.samples",
                            format!("{e} (from L = {size}); take more samples or reduce rg.buffer, rg.env or rg.levels"),
                        )
                    })?;
                }
            }
        }
        Ok(settings)
    }

    /// A buffer width: bounded like the environment's, so that region sizes cannot overflow.
    pub(super) fn width(&self, v: &Spanned<i64>, field: &str) -> Result<usize, SweepError> {
        let x = *v.get_ref();
        if !(0..=1024).contains(&x) {
            return Err(self.err(
                v.span(),
                field,
                format!("must be an integer from 0 to 1024, got {x}"),
            ));
        }
        Ok(x as usize)
    }

    pub(super) fn non_negative(&self, v: &Spanned<i64>, field: &str) -> Result<u64, SweepError> {
        let x = *v.get_ref();
        if x < 0 {
            return Err(self.err(
                v.span(),
                field,
                format!("must be a non-negative integer, got {x}"),
            ));
        }
        Ok(x as u64)
    }
}
