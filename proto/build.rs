//! Compiles the .proto in pure Rust (protox), so a fresh machine needs no system `protoc`, and
//! keeps the descriptor set for gRPC server reflection.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = "rgsweep/v1/rgsweep.proto";
    let keda = "keda/externalscaler.proto";
    println!("cargo:rerun-if-changed={proto}");
    println!("cargo:rerun-if-changed={keda}");
    let fds = protox::compile([proto], ["."])?;
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out.join("rgsweep_descriptor.bin"),
        prost::Message::encode_to_vec(&fds),
    )?;
    tonic_prost_build::configure().compile_fds(fds)?;
    // KEDA's scaler interface: served by the coordinator, not part of rgsweep's own contract
    // (and not in its reflection descriptor).
    tonic_prost_build::configure().compile_fds(protox::compile([keda], ["."])?)?;
    Ok(())
}
