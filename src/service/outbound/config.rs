//! The operator's settings of the outbound policy, with environment variables in n8n's style.

use clap::builder::BoolishValueParser;
use clap::{ArgAction, Args};

#[derive(Clone, Debug, Args)]
pub struct OutboundConfig {
    /// Refuse requests from workflows to loopback, private, link-local and other internal
    /// addresses (allowed by default: self-hosted users call their own services).
    #[arg(long = "outbound-block-private-networks", env = "N8N_OUTBOUND_BLOCK_PRIVATE_NETWORKS",
          value_name = "N8N_OUTBOUND_BLOCK_PRIVATE_NETWORKS", default_value = "false",
          value_parser = BoolishValueParser::new(), action = ArgAction::Set, global = true)]
    pub block_private_networks: bool,

    /// Let workflows reach cloud metadata services (169.254.169.254, fd00:ec2::254,
    /// metadata.google.internal), which hand out the host's cloud credentials; refused by
    /// default.
    #[arg(long = "outbound-allow-cloud-metadata", env = "N8N_OUTBOUND_ALLOW_CLOUD_METADATA",
          value_name = "N8N_OUTBOUND_ALLOW_CLOUD_METADATA", default_value = "false",
          value_parser = BoolishValueParser::new(), action = ArgAction::Set, global = true)]
    pub allow_cloud_metadata: bool,

    /// When set, the only hosts workflows may call (comma-separated; `*.example.com` also
    /// matches every subdomain). Empty: any host.
    #[arg(
        long = "outbound-allowed-hosts",
        env = "N8N_OUTBOUND_ALLOWED_HOSTS",
        value_name = "N8N_OUTBOUND_ALLOWED_HOSTS",
        default_value = "",
        global = true
    )]
    pub allowed_hosts: String,
}
