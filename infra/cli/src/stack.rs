//! `petrel --stack NAME`: the table, bucket, queue and domains of a deployed stack, read from its
//! CloudFormation outputs (one DescribeStacks), so no resource name is copied by hand.

use aws_sdk_cloudformation::error::DisplayErrorContext;

use crate::backend::CliError;

/// What `--stack` puts in front of the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackOutputs {
    pub table: String,
    pub bucket: String,
    pub queue: String,
    pub domain: String,
    pub handle_domain: String,
}

/// The outputs template.yaml declares for the CLI.
const NEEDED: [&str; 5] = ["TableName", "BucketName", "QueueUrl", "Domain", "HandleDomain"];

pub async fn outputs(name: &str) -> Result<StackOutputs, CliError> {
    let sdk = petrel::store::aws::load_sdk_config().await;
    let cfn = aws_sdk_cloudformation::Client::new(&sdk);
    let described = cfn
        .describe_stacks()
        .stack_name(name)
        .send()
        .await
        .map_err(|e| CliError::Stack(format!("stack `{name}`: {}", DisplayErrorContext(e))))?;
    let stack = described.stacks().first().ok_or_else(|| CliError::Stack(format!("stack `{name}` not found")))?;
    let pairs = stack.outputs().iter().filter_map(|o| Some((o.output_key()?, o.output_value()?)));
    from_outputs(name, pairs)
}

/// Picks the outputs the CLI needs; a stack deployed from an older template lacks some, and the
/// message says to update it.
pub fn from_outputs<'a>(
    name: &str,
    outputs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<StackOutputs, CliError> {
    let outputs: std::collections::HashMap<&str, &str> = outputs.into_iter().collect();
    let missing: Vec<&str> =
        NEEDED.iter().copied().filter(|k| !matches!(outputs.get(k), Some(v) if !v.is_empty())).collect();
    if !missing.is_empty() {
        return Err(CliError::Stack(format!(
            "stack `{name}` has no output {}: deploy this version of template.yaml (`sam build && sam deploy`) first",
            missing.join(", ")
        )));
    }
    let get = |k: &str| outputs.get(k).map(|v| v.to_string()).unwrap_or_default();
    Ok(StackOutputs {
        table: get("TableName"),
        bucket: get("BucketName"),
        queue: get("QueueUrl"),
        domain: get("Domain"),
        handle_domain: get("HandleDomain"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_needed_output_is_read_and_a_missing_one_is_named() {
        let all = [
            ("TableName", "petrel-Table-1"),
            ("BucketName", "petrel-mediabucket-1"),
            ("QueueUrl", "https://sqs.eu-west-1.amazonaws.com/1/petrel-OutboxQueue-1"),
            ("Domain", "d111.cloudfront.net"),
            ("HandleDomain", "example.com"),
            ("LoginFrom", "d111.cloudfront.net"),
        ];
        let got = from_outputs("petrel", all).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(got.table, "petrel-Table-1");
        assert_eq!(got.queue, "https://sqs.eu-west-1.amazonaws.com/1/petrel-OutboxQueue-1");
        assert_eq!((got.domain.as_str(), got.handle_domain.as_str()), ("d111.cloudfront.net", "example.com"));
        let old = all.iter().copied().filter(|(k, _)| !matches!(*k, "QueueUrl" | "Domain"));
        let err = from_outputs("petrel", old).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("no output QueueUrl, Domain"), "{err}");
    }
}
