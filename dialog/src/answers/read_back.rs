//! The answer to the read-back ("Here's your order: … Is that correct?").

use std::ops::ControlFlow;

use super::{Answer, Flow};
use crate::prompts;
use crate::state::{Asked, Question};

/// Yes places the order, unless the same words also changed it or gave new details (then it is
/// read back again); edits are applied (as corrections: see [`super::Answer`]); a bare no asks
/// what to change.
pub(super) fn answer(a: &mut Answer) -> ControlFlow<Flow> {
    let answer = a.an.yes_no();
    if a.an.has_menu() {
        a.apply_order_words();
    }
    if answer == Some(true) && !a.edited && !a.details {
        return ControlFlow::Break(Flow::Place);
    }
    if !a.edited && !a.details && answer == Some(false) {
        let lang = a.lang();
        a.understood = true;
        a.s.ordering_done = false;
        a.ask(Question::new(Asked::Order, prompts::what_to_change(lang)));
    }
    ControlFlow::Continue(())
}
