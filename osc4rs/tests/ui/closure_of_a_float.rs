use osc4rs::Osc;

fn main() {
    let osc = Osc::builder().start().unwrap();
    osc.method("/a", |v: f32| println!("{v}")).unwrap();
}
