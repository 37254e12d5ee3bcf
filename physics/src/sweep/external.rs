//! `model = "external"`: configurations from a program a worker registered.
//!
//! ```toml
//! model = "external"
//! sampler = "ising-numpy"            # a name workers register (--sampler NAME=PROGRAM)
//! sampler_version = "ising_numpy 1"  # optional: resolved at submit from the workers
//! configuration = "ising"            # ising (±1) | potts (0..q-1, then q = ...) | dimers
//! dimension = 2                      # ising: 2 or 3; potts: 2
//! configurations = 2000              # per replica
//! temperature = "T"                  # the parameter that is T in exp(-E/T) (default "T")
//! [parameters]                       # every value passed to the program, by name
//! T = { start = 2.1, stop = 2.45, step = 0.05 }
//! J = 1.0
//! ```
//!
//! What a sweep file can never say: a program path or arguments. A sampler is a name that a
//! worker's operator bound to a program; a client token runs only what workers registered.

use super::check::Ctx;
use super::raw::{RawModel, RawSweep, Temperatures};
use super::*;
use crate::model::external::{Sampling, plain_name};
use std::collections::BTreeMap;

/// Most parameters a sweep may pass (each is one JSON field of every request).
const MAX_PARAMETERS: usize = 64;

/// An external sweep's declaration, checked.
pub(super) struct Declared {
    /// The spin model of the configuration type.
    pub(super) model: ModelKind,
    pub(super) temperatures: Vec<f64>,
    pub(super) temperatures_span: std::ops::Range<usize>,
    pub(super) configurations: u64,
    pub(super) configurations_span: std::ops::Range<usize>,
    pub(super) sampling: Sampling,
}

/// The external declaration of `raw`, if its model is `"external"`; for any other model, an
/// error for each key that belongs to external sweeps only.
pub(super) fn declared(cx: &Ctx, raw: &RawSweep) -> Result<Option<Declared>, SweepError> {
    let external_only = [
        (raw.sampler.as_ref().map(Spanned::span), "sampler"),
        (
            raw.sampler_version.as_ref().map(Spanned::span),
            "sampler_version",
        ),
        (
            raw.configuration.as_ref().map(Spanned::span),
            "configuration",
        ),
        (raw.dimension.as_ref().map(Spanned::span), "dimension"),
        (
            raw.configurations.as_ref().map(Spanned::span),
            "configurations",
        ),
        (raw.parameters.as_ref().map(Spanned::span), "parameters"),
        (raw.temperature.as_ref().map(Spanned::span), "temperature"),
    ];
    let RawModel::External = raw.model.get_ref() else {
        for (span, field) in external_only {
            if let Some(span) = span {
                return Err(cx.err(
                    span,
                    field,
                    format!(
                        "{field} belongs to model = \"external\" (a registered sampler), not to {}",
                        raw.model.get_ref().kind()
                    ),
                ));
            }
        }
        return Ok(None);
    };
    let refused = [
        (
            raw.temperatures.as_ref().map(Spanned::span),
            "temperatures",
            "an external sampler's temperature is one of its parameters: give it in [parameters]",
        ),
        (
            raw.p.as_ref().map(Spanned::span),
            "p",
            "an external sampler's parameters go in [parameters]",
        ),
        (
            raw.monte_carlo.as_ref().map(Spanned::span),
            "monte_carlo",
            "the registered program samples: give configurations = N per replica, not [monte_carlo]",
        ),
        (
            raw.mazes.as_ref().map(Spanned::span),
            "mazes",
            "[mazes] belongs to model = \"mazes\"",
        ),
        (
            raw.interaction.as_ref().map(Spanned::span),
            "interaction",
            "an external sampler's couplings are its parameters: give them in [parameters]",
        ),
    ];
    for (span, field, why) in refused {
        if let Some(span) = span {
            return Err(cx.err(span, field, why.into()));
        }
    }
    let model_span = raw.model.span();
    let Some(sampler) = &raw.sampler else {
        return Err(cx.err(
            model_span,
            "sampler",
            "model = \"external\" needs sampler = \"NAME\", a name workers register with --sampler NAME=PROGRAM".into(),
        ));
    };
    let name = sampler.get_ref().as_str();
    if !plain_name(name) {
        let why = if name.contains('/') || name.contains(char::is_whitespace) {
            format!(
                "names a sampler a worker registered (rgsweep worker --sampler NAME=PROGRAM), never a program or its arguments; got {name:?}"
            )
        } else {
            format!("a sampler name is 1 to 64 letters, digits, '-', '_' or '.', got {name:?}")
        };
        return Err(cx.err(sampler.span(), "sampler", why));
    }
    let version = match &raw.sampler_version {
        None => String::new(),
        Some(v) => {
            let text = v.get_ref().trim();
            if text.is_empty() || text.len() > 200 || text.chars().any(char::is_control) {
                return Err(cx.err(
                    v.span(),
                    "sampler_version",
                    format!(
                        "the version a worker advertises for {name} (its --version line or sha256:…): one line of at most 200 characters, got {:?}",
                        v.get_ref()
                    ),
                ));
            }
            text.to_string()
        }
    };
    let Some(configuration) = &raw.configuration else {
        return Err(cx.err(
            model_span,
            "configuration",
            "model = \"external\" needs configuration = \"ising\" (±1 spins) or \"potts\" (0..q-1, with q)".into(),
        ));
    };
    let dimension = match &raw.dimension {
        None => 2,
        Some(d) => *d.get_ref(),
    };
    let dimension_span = raw
        .dimension
        .as_ref()
        .map_or(configuration.span(), Spanned::span);
    let model = match (configuration.get_ref().as_str(), dimension) {
        ("ising", 2) => ModelKind::Ising2d,
        ("ising", 3) => ModelKind::Ising3d,
        ("potts", 2) => ModelKind::Potts2d,
        ("dimers", 2) => ModelKind::Dimer2d,
        ("ising" | "potts" | "dimers", d) => {
            return Err(cx.err(
                dimension_span,
                "dimension",
                format!(
                    "{} configurations are analysed on {} lattices, got dimension = {d}",
                    configuration.get_ref(),
                    if configuration.get_ref() == "ising" {
                        "2D or 3D"
                    } else {
                        "2D"
                    }
                ),
            ));
        }
        (other, _) => {
            return Err(cx.err(
                configuration.span(),
                "configuration",
                format!(
                    "configuration types are \"ising\" (±1 spins), \"potts\" (0..q-1) and \"dimers\" (close-packed dimers as bond occupations); got {other:?}"
                ),
            ));
        }
    };
    // The coarse variables' scaling dimension is measured on larger lattices sampled by the
    // built-in dimer model, not the program's.
    if let Some(d) = raw
        .rsmi
        .as_ref()
        .and_then(|r| r.get_ref().dimension_size.as_ref())
    {
        return Err(cx.err(
            d.span(),
            "rsmi.dimension_size",
            "measures on lattices the built-in dimer sampler draws, not a registered program's"
                .into(),
        ));
    }
    if model == ModelKind::Potts2d && raw.q.is_none() {
        return Err(cx.err(
            configuration.span(),
            "q",
            "potts configurations need the number of states q (q >= 2)".into(),
        ));
    }
    let Some(raw_count) = &raw.configurations else {
        return Err(cx.err(
            model_span,
            "configurations",
            "model = \"external\" needs configurations = N, the configurations each replica's program run returns".into(),
        ));
    };
    let configurations = cx.positive(raw_count, "configurations", MAX_MEASUREMENTS)?;
    if configurations < 16 {
        return Err(cx.err(
            raw_count.span(),
            "configurations",
            format!("needs at least 16 configurations for error bars, got {configurations}"),
        ));
    }
    let Some(raw_parameters) = &raw.parameters else {
        return Err(cx.err(
            model_span,
            "parameters",
            "model = \"external\" needs a [parameters] table, with the temperature (T = [...] or a range)".into(),
        ));
    };
    if raw_parameters.get_ref().len() > MAX_PARAMETERS {
        return Err(cx.err(
            raw_parameters.span(),
            "parameters",
            format!(
                "{} parameters; at most {MAX_PARAMETERS}",
                raw_parameters.get_ref().len()
            ),
        ));
    }
    let temperature = raw
        .temperature
        .as_ref()
        .map_or("T".to_string(), |t| t.get_ref().clone());
    let temperature_span = raw
        .temperature
        .as_ref()
        .map_or(raw_parameters.span(), Spanned::span);
    if !raw_parameters.get_ref().contains_key(&temperature) {
        return Err(cx.err(
            temperature_span,
            "temperature",
            format!(
                "[parameters] has no {temperature:?}: the temperature of the program's energies (weights exp(-E/{temperature})) is what finite-size scaling reweights; add it, or name it with temperature = \"...\""
            ),
        ));
    }
    let mut fixed = BTreeMap::new();
    let mut swept = None;
    for (key, value) in raw_parameters.get_ref() {
        let field = format!("parameters.{key}");
        if !plain_name(key) {
            return Err(cx.err(
                value.span(),
                &field,
                format!(
                    "a parameter name is 1 to 64 letters, digits, '-', '_' or '.', got {key:?}"
                ),
            ));
        }
        if *key == temperature {
            swept = Some((expand_temperatures_of(cx, value, &field)?, value.span()));
            continue;
        }
        let values = expand_grid(cx, value, &field, "value")?;
        match values.as_slice() {
            [one] => {
                fixed.insert(key.clone(), *one);
            }
            _ => {
                return Err(cx.err(
                    value.span(),
                    &field,
                    format!(
                        "only the temperature ({temperature}) is swept; {key} has {} values: run one sweep per value",
                        values.len()
                    ),
                ));
            }
        }
    }
    let (temperatures, temperatures_span) = swept.unwrap_or_default();
    Ok(Some(Declared {
        model,
        temperatures,
        temperatures_span,
        configurations,
        configurations_span: raw_count.span(),
        sampling: Sampling {
            sampler: name.to_string(),
            version,
            temperature,
            parameters: fixed,
        },
    }))
}

/// A temperature axis: a grid of positive values.
fn expand_temperatures_of(
    cx: &Ctx,
    t: &Spanned<Temperatures>,
    field: &str,
) -> Result<Vec<f64>, SweepError> {
    let list = expand_grid(cx, t, field, "temperature")?;
    if let Some(x) = list.iter().find(|x| **x <= 0.0) {
        return Err(cx.err(
            t.span(),
            field,
            format!("temperatures must be positive and finite, got {x}"),
        ));
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "mine"
seed = 5
model = "external"
sampler = "ising-numpy"
sampler_version = "ising_numpy 1"
configuration = "ising"
sizes = [8, 16]
replicas = 2
configurations = 200

[parameters]
T = { start = 2.2, stop = 2.3, step = 0.05 }
J = 1
thermalize = 300
"#;

    fn err(text: &str) -> SweepError {
        Sweep::parse(text, "e.toml").expect_err("should be refused")
    }

    #[test]
    fn an_external_sweep_plans_spin_tasks_that_name_their_sampler() {
        let s = Sweep::parse(GOOD, "e.toml").expect("valid");
        assert_eq!(s.model, ModelKind::Ising2d);
        assert_eq!(s.temperatures, vec![2.2, 2.25, 2.3]);
        assert_eq!(s.monte_carlo.algorithm, Algorithm::External);
        assert_eq!(s.monte_carlo.measurements, 200);
        let tasks = s.tasks();
        assert_eq!(tasks.len(), 2 * 3 * 2);
        let e = tasks[0].external.as_deref().expect("external");
        assert_eq!(
            (
                e.sampler.as_str(),
                e.version.as_str(),
                e.temperature.as_str()
            ),
            ("ising-numpy", "ising_numpy 1", "T")
        );
        assert_eq!(e.parameters_at(2.25).len(), 3, "T, J and thermalize");
        // The version is part of the key: two versions' results never mix.
        let mut other = tasks[0].clone();
        if let Some(x) = other.external.as_deref_mut() {
            x.version = "ising_numpy 2".into();
        }
        assert_ne!(other.content_key(5), tasks[0].content_key(5));
        let potts = GOOD
            .replace("\"ising\"", "\"potts\"")
            .replace("replicas = 2", "replicas = 2\nq = 3");
        let s = Sweep::parse(&potts, "e.toml").expect("potts");
        assert_eq!((s.model, s.q), (ModelKind::Potts2d, Some(3)));
        let dimers = GOOD.replace("\"ising\"", "\"dimers\"");
        let s = Sweep::parse(&dimers, "e.toml").expect("dimers");
        assert_eq!(s.model, ModelKind::Dimer2d);
        assert_eq!(s.tasks()[0].model, ModelKind::Dimer2d);
        let e = err(&dimers.replace("replicas = 2", "replicas = 2\ninteraction = -2"));
        assert!(
            e.field == "field `interaction`: " && e.message.contains("[parameters]"),
            "{e}"
        );
        let e = err(&format!(
            "{dimers}\n[rsmi]\nblock = 2\nbuffers = [1]\nenv = 2\nsamples = 50\ndimension_size = 32\n"
        ));
        assert!(e.field.contains("rsmi.dimension_size"), "{e}");
        let unversioned = GOOD.replace("sampler_version = \"ising_numpy 1\"\n", "");
        let s = Sweep::parse(&unversioned, "e.toml").expect("resolved at submit");
        assert_eq!(s.external.map(|e| e.version), Some(String::new()));
    }

    #[test]
    fn a_sweep_file_cannot_name_a_program_or_misuse_the_declaration() {
        let cases: [(String, usize, &str, &str); 9] = [
            (
                GOOD.replace("\"ising-numpy\"", "\"/bin/sh -c reboot\""),
                5,
                "sampler",
                "never a program",
            ),
            (
                GOOD.replace("\"ising-numpy\"", "\"../x\""),
                5,
                "sampler",
                "never a program",
            ),
            (
                GOOD.replace("J = 1", "J = [1, 2]"),
                14,
                "parameters.J",
                "only the temperature",
            ),
            (
                GOOD.replace("T = {", "K = {"),
                12,
                "temperature",
                "has no \"T\"",
            ),
            (
                GOOD.replace("\"ising\"", "\"bonds\""),
                7,
                "configuration",
                "configuration types",
            ),
            (
                GOOD.replace(
                    "configuration = \"ising\"",
                    "configuration = \"ising\"\ndimension = 4",
                ),
                8,
                "dimension",
                "2D or 3D",
            ),
            (
                GOOD.replace("configurations = 200", "configurations = 8"),
                10,
                "configurations",
                "at least 16",
            ),
            (
                format!("{GOOD}\n[monte_carlo]\nalgorithm = \"wolff\"\n"),
                17,
                "monte_carlo",
                "configurations = N",
            ),
            (
                GOOD.replace("T = {", "T = [0.0]\nX = {"),
                13,
                "parameters.T",
                "positive",
            ),
        ];
        let wrong: Vec<String> = cases
            .iter()
            .map(|(text, line, field, says)| (err(text), line, field, says))
            .filter(|(e, line, field, says)| {
                !(e.line == **line && e.field.contains(*field) && e.message.contains(*says))
            })
            .map(|(e, line, field, says)| format!("{e} (wanted line {line}, {field}, {says:?})"))
            .collect();
        assert!(wrong.is_empty(), "{wrong:#?}");
        // The declaration belongs to external sweeps only.
        let built_in = "name = \"b\"\nseed = 1\nmodel = \"ising2d\"\nsampler = \"x\"\nsizes = [8]\ntemperatures = [2.0]\n[monte_carlo]\nalgorithm = \"wolff\"\nthermalize = 1\nmeasurements = 100\n";
        let e = err(built_in);
        assert!(
            e.line == 4 && e.message.contains("belongs to model = \"external\""),
            "{e}"
        );
        let e = err(&built_in
            .replace("sampler = \"x\"\n", "")
            .replace("wolff", "external"));
        assert!(e.message.contains("model = \"external\""), "{e}");
    }
}
