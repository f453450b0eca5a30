use osc4rs::Osc;

fn main() {
    let osc = Osc::builder().start().unwrap();
    osc.method("/a", |m| println!("{m:?}")).unwrap();
}
