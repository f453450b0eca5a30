//! Dispatching a pattern: a walk of only the index branches it can match.

use super::{AddressSpace, MethodId, Node};
use crate::Pattern;
use crate::pattern::Item;

/// Patterns with more levels than this are matched by scanning every
/// registered address instead of walking the tree (the walk keeps its set of
/// pattern positions in a `u128`).
const MAX_WALK_ITEMS: usize = 127;

impl<T> AddressSpace<T> {
    pub(super) fn collect_pattern<'a>(
        &'a self,
        pattern: &Pattern,
        out: &mut Vec<(MethodId, &'a T)>,
    ) {
        let items = pattern.items();
        if items.len() > MAX_WALK_ITEMS {
            for node in &self.nodes {
                if !node.entries.is_empty() && pattern.matches(&node.path) {
                    self.push_entries(node, out);
                }
            }
        } else if let Some(root) = self.nodes.first() {
            self.walk(root, 1, items, out);
        }
        out.sort_unstable_by_key(|&(id, _)| id);
    }

    /// Visits `node` with `states` (bit `i`: the pattern's item `i` is to
    /// match the next level). Each node is visited at most once, so a walk
    /// costs O(visited nodes × pattern levels).
    fn walk<'a>(
        &'a self,
        node: &Node,
        states: u128,
        items: &[Item],
        out: &mut Vec<(MethodId, &'a T)>,
    ) {
        // `//` may match zero levels: its successor is active too.
        let mut states = states;
        for (i, item) in items.iter().enumerate() {
            if matches!(item, Item::AnyLevels) && states & (1 << i) != 0 {
                states |= 1 << (i + 1);
            }
        }
        let accept = 1u128 << items.len();
        if states & accept != 0 {
            self.push_entries(node, out);
        }
        let active = states & !accept;
        if active == 0 {
            return;
        }
        if active.is_power_of_two() {
            let i = active.trailing_zeros() as usize;
            if let Some(Item::Part(part)) = items.get(i) {
                if let Some(names) = part.finite() {
                    for name in names {
                        if let Some(child) =
                            node.children.get(name).and_then(|&c| self.nodes.get(c))
                        {
                            self.walk(child, 1 << (i + 1), items, out);
                        }
                    }
                    return;
                }
            }
        }
        for child in node.order.iter().filter_map(|&c| self.nodes.get(c)) {
            let next = step(active, items, &child.name);
            if next != 0 {
                self.walk(child, next, items, out);
            }
        }
    }
}

/// The states after a child named `name`, from the `active` states.
fn step(active: u128, items: &[Item], name: &str) -> u128 {
    let mut next = 0;
    let mut bits = active;
    while bits != 0 {
        let i = bits.trailing_zeros() as usize;
        bits &= bits - 1;
        match items.get(i) {
            Some(Item::AnyLevels) => next |= 1 << i,
            Some(Item::Part(part)) if part.matches(name) => next |= 1 << (i + 1),
            Some(Item::Part(_)) | None => {}
        }
    }
    next
}

#[cfg(test)]
#[cfg_attr(test, allow(clippy::unwrap_used))]
mod tests {
    use super::*;
    use crate::space::MAX_ADDRESS_PARTS;

    #[test]
    fn long_patterns_fall_back_to_a_scan() {
        let mut space = AddressSpace::new();
        let address = "/a".repeat(MAX_ADDRESS_PARTS);
        let id = space.insert(&address, ()).unwrap();
        let pattern = format!("/*{}", "/?".repeat(MAX_ADDRESS_PARTS - 1));
        assert_eq!(space.dispatch(&pattern).unwrap(), vec![(id, &())]);
        let pattern = format!("//{}", "a/".repeat(MAX_ADDRESS_PARTS - 1)) + "a";
        assert_eq!(space.dispatch(&pattern).unwrap(), vec![(id, &())]);
    }
}
