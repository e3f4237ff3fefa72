//! TLS for every outgoing connection (DynamoDB and vivo): rustls with the
//! ring crypto provider, one stack for the whole binary. reqwest is built
//! without a provider of its own (`rustls-no-provider`), so ring is
//! installed as the process's provider before any reqwest client is built.
//! The SDK's client names ring itself (`store::dynamo`).

/// Installs ring as the process's rustls provider (once; later calls, and
/// a provider installed by someone else first, leave it as it is).
pub fn install_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A reqwest client builder, the provider installed.
pub fn client_builder() -> reqwest::ClientBuilder {
    install_provider();
    reqwest::Client::builder()
}

/// A reqwest client with default settings, the provider installed.
pub fn client() -> reqwest::Client {
    client_builder()
        .build()
        .expect("reqwest client builds with default settings")
}
