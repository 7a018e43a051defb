//! The accessors every exchange's API handle shares: the account label it was made for, its
//! client and that client's limiter, and its protocol.

/// Writes, inside an exchange API handle's `impl` block, the accessors `account`, `limiter` and
/// `client`, for a handle with the fields `account: String` and `client: Arc<Client>`; with a
/// protocol type, also `protocol` (returning `$protocol`, from a field `protocol: Arc<$protocol>`).
macro_rules! api_handle_accessors {
    () => {
        /// The account label this handle was made for.
        pub fn account(&self) -> &str {
            &self.account
        }

        /// The shared limiter.
        pub fn limiter(&self) -> &std::sync::Arc<$crate::http::Limiter> {
            self.client.limiter()
        }

        /// The underlying client (base URL, retry policy).
        pub fn client(&self) -> &$crate::http::Client {
            &self.client
        }
    };
    ($protocol:ty) => {
        $crate::http::handle::api_handle_accessors!();

        /// The protocol (signing and judging answers).
        pub fn protocol(&self) -> &$protocol {
            &self.protocol
        }
    };
}

pub(crate) use api_handle_accessors;
