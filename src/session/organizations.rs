//! The organization's accounts (`--org`).

use crate::error::{error_chain, AppError};
use crate::fleet;

use super::Session;

impl Session {
    /// The ACTIVE accounts of the organization (organizations:ListAccounts, every page).
    pub async fn organization_accounts(
        &self,
        partition: &str,
        role_name: &str,
    ) -> Result<Vec<fleet::Target>, AppError> {
        let client = self.organizations(&self.home_region);
        let mut pages = client.list_accounts().into_paginator().send();
        let mut targets = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                AppError::Config(format!(
                    "--org: organizations:ListAccounts failed in account {}: {}; run from the organization's management account or a delegated administrator, or name the accounts with --accounts",
                    self.account,
                    error_chain(&e)
                ))
            })?;
            for a in page.accounts() {
                let active = a
                    .state()
                    .map(|s| s.as_str() == "ACTIVE")
                    .or_else(|| {
                        #[allow(deprecated)]
                        a.status().map(|s| s.as_str() == "ACTIVE")
                    })
                    .unwrap_or(false);
                if let (true, Some(id)) = (active, a.id()) {
                    targets.push(fleet::Target {
                        account: id.to_string(),
                        name: a.name().map(str::to_string),
                        role_arn: fleet::role_arn(partition, id, role_name),
                    });
                }
            }
        }
        Ok(targets)
    }
}
