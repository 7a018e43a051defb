//! Binance.US request signing: Binance's ([`crate::binance::auth`]), checked here against the
//! examples of the Binance.US documentation
//! (<https://github.com/binance-us/binance-us-api-docs/blob/master/rest-api.md#signed-endpoint-examples-for-post-apiv3order>).

pub use crate::binance::auth::{API_KEY_HEADER, AuthError, signature, signed_query};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Secret;

    /// The documentation's example secret key (a public test value).
    fn doc_secret() -> Secret {
        Secret::new("NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j".to_owned())
    }

    const TOTAL: &str = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";

    #[test]
    fn doc_example_1_request_body() {
        assert_eq!(
            signature(&doc_secret(), "", TOTAL).unwrap(),
            "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
        );
    }

    #[test]
    fn doc_example_2_query_string_signed_as_sent() {
        let params = [
            ("symbol", "LTCBTC"),
            ("side", "BUY"),
            ("type", "LIMIT"),
            ("timeInForce", "GTC"),
            ("quantity", "1"),
            ("price", "0.1"),
        ];
        let window = crate::binance::auth::RecvWindow::from_millis(5_000).unwrap();
        let query = signed_query(&doc_secret(), &params, Some(window), 1_499_827_319_559).unwrap();
        assert_eq!(
            query,
            format!("{TOTAL}&signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71")
        );
    }

    #[test]
    fn doc_example_3_query_and_body_without_separator() {
        assert_eq!(
            signature(
                &doc_secret(),
                "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC",
                "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
            )
            .unwrap(),
            "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77"
        );
    }

    #[test]
    fn a_wrong_secret_gives_another_signature() {
        let wrong = Secret::new("NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0k".to_owned());
        assert_ne!(
            signature(&wrong, "", TOTAL).unwrap(),
            "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
        );
    }
}
