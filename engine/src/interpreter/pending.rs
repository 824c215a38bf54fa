//! The iterations a Map state has yet to start (inline JSONPath and JSONata Maps, and the
//! child executions of a Map Run).

use serde_json::Value;

/// The iterations a Map state has yet to start, in order: each item and, where an
/// ItemSelector made them, the iteration inputs. Two lists rather than a queue of (index,
/// item, input) triples: a Map of many items holds one value per item until its iteration
/// starts, not three. Items that lie in the Map state's input, which the Map keeps unchanged
/// until it ends, are not copied out at all: each is copied when its iteration starts.
#[derive(Debug, Default)]
pub(super) struct PendingItems {
    /// The index of the next item to start.
    next: usize,
    /// How many items there are.
    len: usize,
    /// The items, unless they are read in place (then empty).
    items: Vec<Value>,
    /// Each item's iteration input, in the same order; `None` when it is the item itself.
    inputs: Option<Vec<Value>>,
}

impl PendingItems {
    /// Items that are their own iteration inputs.
    pub(super) fn of_items(items: Vec<Value>) -> Self {
        PendingItems {
            next: 0,
            len: items.len(),
            items,
            inputs: None,
        }
    }

    /// `len` items that are their own iteration inputs and are read in place: the caller
    /// hands [`PendingItems::pop_front`] the array that holds them.
    pub(super) fn in_place(len: usize) -> Self {
        PendingItems {
            next: 0,
            len,
            items: Vec::new(),
            inputs: None,
        }
    }

    /// Items with their iteration inputs, one for each item in the same order.
    pub(super) fn with_inputs(items: Vec<Value>, inputs: Vec<Value>) -> Self {
        debug_assert_eq!(items.len(), inputs.len());
        PendingItems {
            next: 0,
            len: items.len(),
            items,
            inputs: Some(inputs),
        }
    }

    /// Whether the items are read in place (see [`PendingItems::in_place`]).
    pub(super) fn reads_in_place(&self) -> bool {
        self.items.len() != self.len
    }

    /// How many iterations have not started.
    pub(super) fn len(&self) -> usize {
        self.len - self.next
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The next iteration to start: its index, its item and its input. The item is null
    /// unless `keep_item` (it is kept for `$$.Map.Item` only); values are moved out, not
    /// copied, where they are not needed twice. `in_place` is the array of items read in
    /// place; `None` when there are none left or the array is not there.
    pub(super) fn pop_front(
        &mut self,
        keep_item: bool,
        in_place: Option<&[Value]>,
    ) -> Option<(usize, Value, Value)> {
        let index = self.next;
        if index >= self.len {
            return None;
        }
        let item = if self.reads_in_place() {
            in_place?.get(index)?.clone()
        } else {
            std::mem::take(&mut self.items[index])
        };
        self.next += 1;
        let (item, input) = match &mut self.inputs {
            Some(inputs) => {
                let input = std::mem::take(&mut inputs[index]);
                (if keep_item { item } else { Value::Null }, input)
            }
            None if keep_item => (item.clone(), item),
            None => (Value::Null, item),
        };
        Some((index, item, input))
    }
}
