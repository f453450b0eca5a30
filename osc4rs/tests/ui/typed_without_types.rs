use osc4rs::{Handler, Osc};

fn main() {
    let osc = Osc::builder().start().unwrap();
    osc.method("/a", Handler::typed(|v| println!("{v}"))).unwrap();
}
