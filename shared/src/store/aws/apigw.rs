//! Connections on AWS: the API Gateway Management API of the site's WebSocket API
//! (`https://{api}.execute-api.{region}.amazonaws.com/{stage}`), on the shared `SdkConfig`.

use async_trait::async_trait;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use aws_sdk_apigatewaymanagement::Client;

use super::{map_sdk_error, LazyClient};
use crate::store::connections::{validate_message, Connections};
use crate::store::error::StoreResult;

pub struct ApiGatewayConnections {
    client: LazyClient<Client>,
}

impl ApiGatewayConnections {
    /// `endpoint`: the WebSocket API's stage URL with the https scheme.
    pub fn new(sdk: &aws_config::SdkConfig, endpoint: &str) -> Self {
        let (sdk, endpoint) = (sdk.clone(), endpoint.to_string());
        ApiGatewayConnections {
            client: LazyClient::new(move || {
                Client::from_conf(
                    aws_sdk_apigatewaymanagement::config::Builder::from(&sdk).endpoint_url(&endpoint).build(),
                )
            }),
        }
    }
}

#[async_trait]
impl Connections for ApiGatewayConnections {
    async fn send(&self, connection_id: &str, text: &str) -> StoreResult<()> {
        validate_message(connection_id, text)?;
        self.client
            .get()
            .post_to_connection()
            .connection_id(connection_id)
            .data(Blob::new(text.as_bytes()))
            .send()
            .await
            .map_err(|e| map_sdk_error(e, "PostToConnection"))?;
        Ok(())
    }
}
