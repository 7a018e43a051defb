//! The `cointally` binary: parse arguments, run one command, map errors to exit codes.

fn main() -> std::process::ExitCode {
    cointally::allocator::tune();
    cointally::cli::main()
}
