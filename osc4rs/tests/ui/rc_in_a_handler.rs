use std::cell::RefCell;
use std::rc::Rc;

use osc4rs::{Message, Osc};

fn main() {
    let osc = Osc::builder().start().unwrap();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let s = Rc::clone(&seen);
    osc.method("/a", move |m: &Message| s.borrow_mut().push(m.clone())).unwrap();
}
