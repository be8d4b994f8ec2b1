"""moto's server with the EKS and ECR operations moto 5.2.5 lacks, for the end-to-end
tests: add-ons, EKS Pod Identity associations and ECR pull-through cache rules.

    python tests/e2e/moto_plus.py -H 127.0.0.1 -p PORT      (moto_server's arguments)

moto does not implement EKS add-ons (CreateAddon, ListAddons, DescribeAddon,
DescribeAddonVersions) at all, so an audit of any EKS cluster against it would carry a gap
for ListAddons. This launcher adds them to moto's EKS service before starting moto's own
server. Add-ons live on moto's EKS backend of their account and region (so moto's reset
clears them) and are returned as AWS returns them, ACTIVE and healthy: what AWS alone
decides (a DEGRADED status, health issues) is a documented hand edit of a recording. The
versions DescribeAddonVersions offers are ADDON_VERSIONS below.

ECR pull-through cache rules (CreatePullThroughCacheRule, DescribePullThroughCacheRules)
live on moto's ECR backend of their account and region, and are listed as AWS lists them.

Everything here is test scaffolding for the emulator; the auditor is read-only and never
calls a Create operation.
"""

from __future__ import annotations

import datetime as dt
import importlib.abc
import importlib.util
import json
import sys
from typing import Any

# The add-on versions a real region offers for these Kubernetes versions, trimmed to what the
# scenarios use: each version with the cluster versions it supports and whether it is the
# default there.
ADDON_VERSIONS: dict[str, list[dict[str, Any]]] = {
    "vpc-cni": [
        {"addonVersion": "v1.20.4-eksbuild.1", "defaults": ["1.33", "1.34", "1.35", "1.36"],
         "supports": ["1.30", "1.31", "1.32", "1.33", "1.34", "1.35", "1.36"]},
        {"addonVersion": "v1.19.2-eksbuild.1", "defaults": ["1.30", "1.31", "1.32"],
         "supports": ["1.28", "1.29", "1.30", "1.31", "1.32", "1.33", "1.34", "1.35"]},
        {"addonVersion": "v1.15.1-eksbuild.1", "defaults": ["1.26", "1.27"],
         "supports": ["1.24", "1.25", "1.26", "1.27", "1.28"]},
    ],
    "coredns": [
        {"addonVersion": "v1.12.4-eksbuild.1", "defaults": ["1.34", "1.35", "1.36"],
         "supports": ["1.34", "1.35", "1.36"]},
        {"addonVersion": "v1.11.4-eksbuild.2", "defaults": ["1.31", "1.32", "1.33"],
         "supports": ["1.31", "1.32", "1.33", "1.34", "1.35"]},
        {"addonVersion": "v1.10.1-eksbuild.18", "defaults": ["1.28", "1.29", "1.30"],
         "supports": ["1.28", "1.29", "1.30"]},
    ],
    "kube-proxy": [
        {"addonVersion": "v1.35.0-eksbuild.2", "defaults": ["1.35"], "supports": ["1.35"]},
        {"addonVersion": "v1.34.1-eksbuild.2", "defaults": ["1.34"], "supports": ["1.34"]},
        {"addonVersion": "v1.30.9-eksbuild.3", "defaults": ["1.30"], "supports": ["1.30"]},
    ],
}

def _now() -> float:
    return dt.datetime.now(dt.timezone.utc).timestamp()


def install() -> None:
    """Adds the add-on routes and handlers to moto's EKS service."""
    from moto.core.responses import ActionResult
    from moto.eks import urls
    from moto.eks.responses import EKSResponse

    def addons_of(self) -> tuple[str, dict[str, dict[str, Any]]]:
        """The cluster's name and its add-ons (the cluster must exist, as AWS requires)."""
        cluster = self._get_param("name") or self._get_param("clusterName")
        self.eks_backend.describe_cluster(name=cluster)
        store = self.eks_backend.__dict__.setdefault("_awsaudit_addons", {})
        return cluster, store.setdefault(cluster, {})

    def create_addon(self):
        cluster, addons = addons_of(self)
        name = self._get_param("addonName")
        addon = {
            "addonName": name,
            "clusterName": cluster,
            "status": "ACTIVE",
            "addonVersion": self._get_param("addonVersion") or ADDON_VERSIONS.get(name, [{}])[0].get("addonVersion", "v1.0.0"),
            "health": {"issues": []},
            "addonArn": f"arn:aws:eks:{self.region}:{self.current_account}:addon/{cluster}/{name}/0000",
            "createdAt": _now(),
            "modifiedAt": _now(),
            "tags": self._get_param("tags") or {},
        }
        addons[name] = addon
        return ActionResult({"addon": addon})

    def list_addons(self):
        return ActionResult({"addons": sorted(addons_of(self)[1])})

    def describe_addon(self):
        from moto.eks.exceptions import ResourceNotFoundException
        cluster, addons = addons_of(self)
        name = self._get_param("addonName")
        addon = addons.get(name)
        if addon is None:
            raise ResourceNotFoundException(
                clusterName=cluster, addonName=name,
                message=f"No addon: {name} found in cluster: {cluster}")
        return ActionResult({"addon": addon})

    def describe_addon_versions(self):
        k8s = self._get_param("kubernetesVersion")
        wanted = self._get_param("addonName")
        out = []
        for name, versions in sorted(ADDON_VERSIONS.items()):
            if wanted and name != wanted:
                continue
            listed = [
                {"addonVersion": v["addonVersion"], "architecture": ["amd64", "arm64"],
                 "compatibilities": [{"clusterVersion": c, "platformVersions": ["*"], "defaultVersion": c in v["defaults"]}
                                     for c in v["supports"] if not k8s or c == k8s],
                 "requiresConfiguration": False}
                for v in versions if not k8s or k8s in v["supports"]
            ]
            out.append({"addonName": name, "type": "networking", "addonVersions": listed,
                        "publisher": "eks", "owner": "aws"})
        return ActionResult({"addons": out})

    def associations_of(self) -> tuple[str, dict[str, dict[str, Any]]]:
        cluster = self._get_param("name") or self._get_param("clusterName")
        self.eks_backend.describe_cluster(name=cluster)
        store = self.eks_backend.__dict__.setdefault("_awsaudit_pod_identity", {})
        return cluster, store.setdefault(cluster, {})

    def create_pod_identity_association(self):
        from moto.moto_api._internal import mock_random
        cluster, associations = associations_of(self)
        association_id = "a-" + mock_random.get_random_string(17).lower()
        association = {
            "clusterName": cluster,
            "namespace": self._get_param("namespace"),
            "serviceAccount": self._get_param("serviceAccount"),
            "roleArn": self._get_param("roleArn"),
            "associationArn": f"arn:aws:eks:{self.region}:{self.current_account}:podidentityassociation/{cluster}/{association_id}",
            "associationId": association_id,
            "tags": self._get_param("tags") or {},
            "createdAt": _now(),
            "modifiedAt": _now(),
        }
        associations[association_id] = association
        return ActionResult({"association": association})

    def list_pod_identity_associations(self):
        cluster, associations = associations_of(self)
        summaries = [{k: a[k] for k in ("clusterName", "namespace", "serviceAccount", "associationArn", "associationId")}
                     for _, a in sorted(associations.items())]
        return ActionResult({"associations": summaries})

    def describe_pod_identity_association(self):
        from moto.eks.exceptions import ResourceNotFoundException
        cluster, associations = associations_of(self)
        association_id = self._get_param("associationId")
        association = associations.get(association_id)
        if association is None:
            raise ResourceNotFoundException(
                clusterName=cluster, message=f"No association: {association_id} found in cluster: {cluster}")
        return ActionResult({"association": association})

    install_ecr()

    for fn in (create_addon, list_addons, describe_addon, describe_addon_versions,
               create_pod_identity_association, list_pod_identity_associations,
               describe_pod_identity_association):
        setattr(EKSResponse, fn.__name__, fn)
    urls.url_paths.update({
        "{0}/clusters/(?P<name>[^/]+)/addons$": urls.response.dispatch,
        "{0}/clusters/(?P<name>[^/]+)/addons/(?P<addonName>[^/]+)$": urls.response.dispatch,
        "{0}/addons/supported-versions$": urls.response.dispatch,
        "{0}/clusters/(?P<name>[^/]+)/pod-identity-associations$": urls.response.dispatch,
        "{0}/clusters/(?P<name>[^/]+)/pod-identity-associations/(?P<associationId>[^/]+)$": urls.response.dispatch,
    })


def install_ecr() -> None:
    """Adds pull-through cache rules to moto's ECR service (JSON protocol: no routes)."""
    from moto.core.responses import ActionResult
    from moto.ecr.responses import ECRResponse

    def rules_of(self) -> dict[str, dict[str, Any]]:
        return self.ecr_backend.__dict__.setdefault("_awsaudit_pull_through", {})

    def create_pull_through_cache_rule(self):
        prefix = self._get_param("ecrRepositoryPrefix")
        rule = {
            "ecrRepositoryPrefix": prefix,
            "upstreamRegistryUrl": self._get_param("upstreamRegistryUrl"),
            "upstreamRegistry": self._get_param("upstreamRegistry") or "docker-hub",
            "registryId": self.current_account,
            "createdAt": _now(),
            "updatedAt": _now(),
        }
        if self._get_param("credentialArn"):
            rule["credentialArn"] = self._get_param("credentialArn")
        rules_of(self)[prefix] = rule
        return ActionResult({k: v for k, v in rule.items() if k != "updatedAt"})

    def describe_pull_through_cache_rules(self):
        wanted = self._get_param("ecrRepositoryPrefixes")
        rules = [r for p, r in sorted(rules_of(self).items()) if not wanted or p in wanted]
        return ActionResult({"pullThroughCacheRules": rules})

    for fn in (create_pull_through_cache_rule, describe_pull_through_cache_rules):
        setattr(ECRResponse, fn.__name__, fn)


class _AfterImport(importlib.abc.MetaPathFinder):
    """Runs `install` right after moto imports `moto.eks.urls`, never before: moto.eks draws
    random ids at import time (the cluster endpoint and OIDC issuer templates), and only an
    import after the tests seed moto's random generator keeps those ids reproducible."""

    def find_spec(self, name, path, target=None):
        if name != "moto.eks.urls":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        loader = spec.loader
        run = loader.exec_module

        def exec_module(module):
            run(module)
            install()

        loader.exec_module = exec_module
        return spec


if __name__ == "__main__":
    sys.meta_path.insert(0, _AfterImport())
    from moto.server import main

    main(sys.argv[1:])
