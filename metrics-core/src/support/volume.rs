//! Ticket volume.

use polars::prelude::*;

use super::{Metric, P_CREATED, P_SOLVED, Tickets, grouped};
use crate::schema::tickets::SOLVED_AT;

/// Tickets created and solved per period.
///
/// * `tickets_created`: tickets whose `created_at` is in the period.
/// * `tickets_solved`: tickets whose `solved_at` is in the period; left out
///   (and named in meta's `skipped`) when `solved_at` is not mapped.
///
/// Counts; 0 in a period without tickets.
pub fn volume(t: &Tickets) -> Metric {
    let mut parts = vec![grouped(P_CREATED, vec![len().alias("tickets_created")])];
    if t.has(SOLVED_AT) {
        parts.push(grouped(P_SOLVED, vec![len().alias("tickets_solved")]));
    }
    let mut columns = vec!["tickets_created".to_owned()];
    if t.has(SOLVED_AT) {
        columns.push("tickets_solved".to_owned());
    }
    Metric { parts, counts: columns.clone(), columns }
}
