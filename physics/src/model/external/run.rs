//! A task of an external sweep on the configurations its program returned: the worker runs
//! the program (this crate does no I/O) and hands the checked configurations here.

use super::{Replica, dimer2d};
use crate::analysis::Series;
use crate::model::{Model, ModelKind};
use crate::rng::Stream;
use crate::task::{Extras, SweepStatsRecord, Task, TaskResult, evenly};
use crate::with_model;

impl Task {
    /// An external task on the configurations its program returned, one [`Replica`]
    /// per replica in replica order: the energy series the program gave, the order parameter of
    /// each configuration, and RSMI, RG and saved samples on them as for a built-in chain. The
    /// worker checked the values and shapes; anything off (a wrong count, a state out of
    /// range) yields empty series, which aggregation refuses, rather than a panic.
    pub fn run_on_samples(
        &self,
        seed: u64,
        given: &[Replica],
        clock: &dyn Fn() -> f64,
    ) -> TaskResult {
        if self.model == ModelKind::Dimer2d {
            return self.dimers_on_samples(seed, given, clock);
        }
        let model = self.model.build(self.size, self.q);
        let (sites, order_norm) = model.as_ref().map_or(
            (0, 1.0),
            |m| with_model!(m, m => (m.lattice().sites(), m.order_norm())),
        );
        let fits = |rep: &Replica| {
            rep.states.len() as u64 == self.monte_carlo.measurements
                && rep.energy.len() == rep.states.len()
                && rep
                    .states
                    .iter()
                    .all(|c| c.len() == sites && c.iter().all(|&s| s < self.q.max(2)))
        };
        let mut extras = Extras::default();
        let mut replicas = Vec::new();
        if let Some(model) = &model
            && given.len() == self.replicas as usize
            && given.iter().all(fits)
        {
            for (r, rep) in (self.first_replica..).zip(given) {
                let order = with_model!(model, m => {
                    rep.states.iter().map(|c| m.order_of(c)).collect()
                });
                self.measure_configurations(seed, r, &rep.states, clock, &mut extras);
                replicas.push(Series {
                    energy: rep.energy.clone(),
                    order,
                    named: Vec::new(),
                });
            }
        }
        TaskResult {
            task: self.clone(),
            sites,
            order_norm,
            replicas,
            stats: SweepStatsRecord {
                updates: (sites as u64) * self.monte_carlo.measurements * u64::from(self.replicas),
                ..Default::default()
            },
            rsmi: extras.rsmi,
            rg: extras.rg,
            samples: extras.samples,
            percolation: None,
            maze: None,
        }
    }

    /// [`Task::run_on_samples`] for close-packed dimers given as bond occupations
    /// ([`dimer2d::Dimers::bonds`]' layout): the energy series the program gave, the model's
    /// named series of each configuration, and images ([`dimer2d::image`], decoys and lattice
    /// symmetry from the replica's decoy stream, as a built-in run draws them) for RSMI and
    /// saved samples. A configuration that is not a covering yields empty series.
    fn dimers_on_samples(
        &self,
        seed: u64,
        given: &[Replica],
        clock: &dyn Fn() -> f64,
    ) -> TaskResult {
        let sites = self.size * self.size;
        let keep = self
            .rsmi
            .as_ref()
            .map_or(0, |r| r.samples)
            .max(self.save_samples) as usize;
        let mut extras = Extras::default();
        let mut replicas = Vec::new();
        for (r, rep) in (self.first_replica..).zip(given) {
            let coverings: Option<Vec<dimer2d::Dimers>> = rep
                .states
                .iter()
                .map(|c| dimer2d::Dimers::from_bonds(self.size, c.clone(), 1.0))
                .collect();
            let Some(coverings) = coverings.filter(|c| {
                c.len() as u64 == self.monte_carlo.measurements && rep.energy.len() == c.len()
            }) else {
                replicas.clear();
                break;
            };
            let mut named: [Vec<i64>; 4] = Default::default();
            for d in &coverings {
                let x = d.sample();
                for (k, v) in [x.columnar[0], x.columnar[1], x.winding[0], x.winding[1]]
                    .into_iter()
                    .enumerate()
                {
                    named[k].push(v);
                }
            }
            if keep > 0 {
                let mut decoys = Stream::derive(seed, &format!("{}/decoys", self.stream_key(r)));
                let images: Vec<Vec<u8>> = (0..keep.min(coverings.len()))
                    .map(|i| {
                        coverings[i * coverings.len() / keep.min(coverings.len())]
                            .symmetrised_image(&mut decoys)
                    })
                    .collect();
                if let Some(settings) = &self.rsmi {
                    let images = evenly(&images, settings.samples as usize);
                    extras
                        .rsmi
                        .extend(self.learn(settings, seed, r, &images, clock));
                }
                if self.save_samples > 0 {
                    extras
                        .samples
                        .extend(evenly(&images, self.save_samples as usize));
                }
            }
            replicas.push(dimer2d::series(rep.energy.clone(), named));
        }
        if replicas.len() != given.len() || given.len() != self.replicas as usize {
            replicas.clear();
            extras = Extras::default();
        }
        TaskResult {
            task: self.clone(),
            sites,
            order_norm: sites as f64 / 2.0,
            replicas,
            stats: SweepStatsRecord {
                updates: (sites as u64) * self.monte_carlo.measurements * u64::from(self.replicas),
                ..Default::default()
            },
            rsmi: extras.rsmi,
            rg: Vec::new(),
            samples: extras.samples,
            percolation: None,
            maze: None,
        }
    }

    /// The 64-bit seed the program of replica `replica` is given: the first word of the
    /// replica's stream, so it derives from (sweep seed, task key) like every other stream.
    pub fn program_seed(&self, seed: u64, replica: u32) -> u64 {
        Stream::derive(seed, &self.stream_key(replica)).next_u64()
    }
}
