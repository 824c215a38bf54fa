fn main() {
    eprintln!("not supported yet: the stepcheck CLI is being built");
    std::process::exit(1);
}
