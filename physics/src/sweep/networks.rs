//! The sweep file's `[rg]` sections for the conventional networks: `[rg.rbm]` and
//! `[rg.autoencoder]`, each present exactly when `rg.maps` names one of its maps.

use super::check::Ctx;
use super::raw::*;
use super::*;
use crate::rg::{AutoencoderRule, MapKind};

impl Ctx<'_> {
    /// `[rg.rbm]`: present only with an RBM map, which is for the 2D Ising model.
    pub(super) fn rg_rbm(
        &self,
        r: &Spanned<RawRg>,
        maps: &[crate::rg::MapKind],
        dim: usize,
        q: u8,
        samples: u64,
        sizes: &[usize],
    ) -> Result<Option<crate::rg::RbmRule>, SweepError> {
        use crate::rg::RbmRule;
        let raw = r.get_ref();
        let Some(span) = self.network_gate(
            r,
            maps.iter().any(|m| m.is_rbm()),
            raw.rbm.as_ref().map(|t| t.span()),
            "rg.rbm",
            "RBM settings without an RBM map: add \"rbm\" or \"rbm-dense\" to rg.maps or remove [rg.rbm]",
            "the RBM maps (b = 2 layers of binary units)",
            (dim, q),
        )?
        else {
            return Ok(None);
        };
        if maps.contains(&MapKind::RbmDense) {
            for &l in sizes {
                crate::rg::flow::dense_fits(l).map_err(|e| self.err(span.clone(), "rg.maps", e))?;
            }
        }
        let mut rule = RbmRule::default();
        let mut field = ("rg.maps", span);
        if let Some(t) = &raw.rbm {
            let t = t.get_ref();
            field = ("rg.rbm", r.span());
            if let Some(x) = &t.learning_rate {
                if !(x.get_ref().is_finite() && *x.get_ref() > 0.0 && *x.get_ref() <= 10.0) {
                    return Err(self.err(
                        x.span(),
                        "rg.rbm.learning_rate",
                        format!("must be in (0, 10], got {}", x.get_ref()),
                    ));
                }
                rule.learning_rate = *x.get_ref();
            }
            if let Some(x) = &t.l1 {
                if !(x.get_ref().is_finite() && *x.get_ref() >= 0.0 && *x.get_ref() <= 1.0) {
                    return Err(self.err(
                        x.span(),
                        "rg.rbm.l1",
                        format!("must be in [0, 1], got {}", x.get_ref()),
                    ));
                }
                rule.l1 = *x.get_ref();
            }
            if let Some(x) = &t.batch {
                rule.batch = self.positive(x, "rg.rbm.batch", 100_000)? as usize;
                field = ("rg.rbm.batch", x.span());
            }
            if let Some(x) = &t.epochs {
                rule.epochs = self.positive(x, "rg.rbm.epochs", 100_000)? as usize;
            }
            if let Some(x) = &t.cd_steps {
                rule.cd_steps = self.positive(x, "rg.rbm.cd_steps", 1000)? as usize;
            }
            if let Some(p) = t.persistent {
                rule.persistent = p;
            }
            if let Some(p) = t.information_plane {
                if p && !maps.contains(&MapKind::Rbm) {
                    return Err(self.err(
                        r.span(),
                        "rg.rbm.information_plane",
                        "is measured on the block-local \"rbm\" map: add it to rg.maps".into(),
                    ));
                }
                if p && !raw.audit.as_ref().is_some_and(|a| *a.get_ref()) {
                    return Err(self.err(
                        r.span(),
                        "rg.rbm.information_plane",
                        "measures the audit over training: needs rg.audit = true".into(),
                    ));
                }
                rule.information_plane = p;
            }
        }
        rule.check(samples)
            .map_err(|e| self.err(field.1, field.0, e))?;
        Ok(Some(rule))
    }

    /// `[rg.autoencoder]`: present only with an autoencoder map, which is for the 2D Ising
    /// model.
    pub(super) fn rg_autoencoder(
        &self,
        r: &Spanned<RawRg>,
        maps: &[MapKind],
        dim: usize,
        q: u8,
        samples: u64,
    ) -> Result<Option<AutoencoderRule>, SweepError> {
        let raw = r.get_ref();
        let Some(span) = self.network_gate(
            r,
            maps.iter().any(|m| m.autoencoder().is_some()),
            raw.autoencoder.as_ref().map(|t| t.span()),
            "rg.autoencoder",
            "autoencoder settings without an autoencoder map: add \"autoencoder-tanh\" or \"autoencoder-relu\" to rg.maps or remove [rg.autoencoder]",
            "the autoencoder maps (b = 2 layers of binary codes)",
            (dim, q),
        )?
        else {
            return Ok(None);
        };
        let mut rule = AutoencoderRule::default();
        let mut field = ("rg.maps", span);
        if let Some(t) = &raw.autoencoder {
            field = ("rg.autoencoder", t.span());
            let t = t.get_ref();
            let (hidden, epochs, batch) = crate::rg::ae_map::LIMITS;
            if let Some(x) = &t.hidden {
                rule.hidden = self.positive(x, "rg.autoencoder.hidden", hidden as u64)? as usize;
            }
            if let Some(x) = &t.epochs {
                rule.epochs = self.positive(x, "rg.autoencoder.epochs", epochs as u64)? as usize;
            }
            if let Some(x) = &t.batch {
                rule.batch = self.positive(x, "rg.autoencoder.batch", batch as u64)? as usize;
            }
            if let Some(x) = &t.learning_rate {
                let v = *x.get_ref();
                if !(v.is_finite() && v > 0.0 && v <= 1.0) {
                    return Err(self.err(
                        x.span(),
                        "rg.autoencoder.learning_rate",
                        format!("must be in (0, 1], got {v}"),
                    ));
                }
                rule.learning_rate = v;
            }
            if let Some(p) = &t.information_plane {
                if *p.get_ref() && !raw.audit.as_ref().is_some_and(|a| *a.get_ref()) {
                    return Err(self.err(
                        p.span(),
                        "rg.autoencoder.information_plane",
                        "measures the audit over training: needs rg.audit = true".into(),
                    ));
                }
                rule.information_plane = *p.get_ref();
            }
        }
        rule.check(samples)
            .map_err(|e| self.err(field.1, field.0, e))?;
        Ok(Some(rule))
    }

    /// What every network section starts with: without a map of its kind (`listed`), no
    /// settings, and a section given anyway is refused; with one, the model must be 2D Ising.
    /// Returns the span of `rg.maps` (where a setting that fails later is blamed by default).
    #[allow(clippy::too_many_arguments)]
    fn network_gate(
        &self,
        r: &Spanned<RawRg>,
        listed: bool,
        section: Option<std::ops::Range<usize>>,
        name: &str,
        without: &str,
        networks: &str,
        (dim, q): (usize, u8),
    ) -> Result<Option<std::ops::Range<usize>>, SweepError> {
        if !listed {
            return match section {
                Some(span) => Err(self.err(span, name, without.into())),
                None => Ok(None),
            };
        }
        let span = r.get_ref().maps.as_ref().map_or(r.span(), |m| m.span());
        if dim != 2 || q != 2 {
            return Err(self.err(
                span,
                "rg.maps",
                format!("{networks} are for the 2D Ising model"),
            ));
        }
        Ok(Some(span))
    }
}
