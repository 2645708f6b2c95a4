#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: the preflight authors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: preflight_facts
short_description: Read one host's upgrade facts with C(preflight facts) (read-only)
version_added: "0.1.0"
description:
  - Runs C(preflight facts --format json) on the managed host and returns the versioned facts
    document it prints (document version 1) with the Ubuntu release, the time-sync units, how
    MAAS is installed (snap or deb, and its version) and the non-secret fields of
    C(regiond.conf).
  - Write one document per host to a directory on the control node and run
    C(preflight scan --host-facts DIR) there to judge every controller in one report (the role
    C(preflight.upgrade.preflight_facts) and the playbook C(preflight.upgrade.preflight) do
    both).
  - Read-only. C(preflight facts) reads files and runs C(systemctl), C(dpkg-query) and
    C(lsb_release) queries; it opens no network connection and never writes. The document never
    holds a secret (the database password of C(regiond.conf) has no field in it).
options:
  binary:
    description:
      - The preflight executable on the managed host.
      - A bare name is looked up in E(PATH) (and the usual C(sbin) directories); a path is used
        as it is.
    type: str
    default: preflight
  root:
    description:
      - Read this directory (a mounted image, a container root, a chroot) instead of C(/)
        (C(preflight facts --root)).
      - What needs the running system (a unit's active state, running processes,
        C(lsb_release)) is then reported as not available, never guessed.
    type: path
  name:
    description:
      - The host's name in the document, which the report names the host by
        (C(preflight facts --name)).
      - Default is the host's hostname (from the root's C(/etc/hostname) with O(root)). Give the
        inventory name so that the report speaks of hosts as the inventory does.
    type: str
  timeout:
    description:
      - Seconds each command preflight runs (C(systemctl), C(dpkg-query), C(lsb_release)) may
        take (C(preflight facts --timeout)).
    type: int
    default: 10
extends_documentation_fragment:
  - action_common_attributes
  - action_common_attributes.facts
attributes:
  check_mode:
    support: full
    details: The module only reads, so it runs the same in check mode.
  diff_mode:
    support: none
  facts:
    support: full
  platform:
    platforms: posix
notes:
  - The preflight binary is a static executable; the role C(preflight.upgrade.preflight_facts)
    copies one from the control node for the run when the host has none.
  - Reading C(regiond.conf) needs root (use C(become)); without it the document says the
    file could not be read, and the report says so.
author:
  - The preflight authors
"""

EXAMPLES = r"""
- name: Read this controller's facts
  preflight.upgrade.preflight_facts:
    name: "{{ inventory_hostname }}"
  register: facts

- name: Read a mounted image with a preflight copied to /tmp
  preflight.upgrade.preflight_facts:
    binary: /tmp/preflight
    root: /mnt/region-image
    name: region-2
  become: true

- name: Keep the document on the control node for preflight scan --host-facts
  ansible.builtin.copy:
    content: "{{ facts.preflight_facts | to_nice_json }}\n"
    dest: "./preflight-facts/{{ inventory_hostname }}.json"
    mode: "0644"
  delegate_to: localhost
"""

RETURN = r"""
preflight_facts:
  description:
    - The facts document C(preflight facts --format json) printed, as it printed it.
    - C(preflight_facts) is the document version, C(host) the host's name, C(root) the root
      read, C(facts) the facts (C(release), C(lsb_release), C(systemd), C(timesyncd),
      C(chrony), C(maas_chronyd), C(maas), C(regiond)).
  returned: success
  type: dict
  sample:
    preflight_facts: 1
    host: region-1
    root: /
    preflight_version: 0.1.0
    facts:
      release: {id: ubuntu, version: "22.04", codename: jammy, source: /etc/os-release}
      lsb_release: null
      systemd: true
      timesyncd: {active: inactive, enabled: disabled, unread: null}
      chrony: {active: active, enabled: enabled, unread: null}
      maas_chronyd: false
      maas: {snap: {mode: region+rack, version: 3.5.1}}
      regiond: null
ansible_facts:
  description: The same document as a host fact.
  returned: success
  type: dict
  contains:
    preflight_facts:
      description: The document (see RV(preflight_facts)).
      returned: success
      type: dict
cmd:
  description: The command that was run (or the binary that was looked for).
  returned: always, unless the options are invalid
  type: list
  elements: str
  sample: [/usr/local/bin/preflight, facts, --format, json, --timeout, "10", --name, region-1]
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule

# How much of an unexpected output a failure message quotes.
QUOTE = 400


def quote(text):
    text = (text or "").strip()
    if len(text) > QUOTE:
        return text[:QUOTE] + "..."
    return text


def find_binary(module, binary):
    """The executable to run, or fail_json saying why there is none."""
    if "/" in binary:
        if not os.path.exists(binary):
            module.fail_json(
                msg="preflight binary %s does not exist on this host: install preflight there, "
                "or give binary= the path of one (the role preflight.upgrade.preflight_facts "
                "copies one from the control node)" % binary,
                cmd=[binary],
            )
        if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
            module.fail_json(msg="preflight binary %s is not an executable file" % binary, cmd=[binary])
        return binary
    found = module.get_bin_path(binary)
    if found is None:
        module.fail_json(
            msg="preflight binary %r not found on PATH (%s) on this host: install preflight "
            "there, or give binary= its path (the role preflight.upgrade.preflight_facts copies "
            "one from the control node)" % (binary, os.environ.get("PATH", "")),
            cmd=[binary],
        )
    return found


def check_document(doc):
    """Why `doc` is not a facts document, or None."""
    if not isinstance(doc, dict):
        return "a JSON %s, not an object" % type(doc).__name__
    version = doc.get("preflight_facts")
    if isinstance(version, bool) or not isinstance(version, int):
        return "no integer preflight_facts (the document version)"
    if not isinstance(doc.get("host"), str) or not doc.get("host"):
        return "no host name"
    if not isinstance(doc.get("facts"), dict):
        return "no facts object"
    return None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            binary=dict(type="str", default="preflight"),
            root=dict(type="path"),
            name=dict(type="str"),
            timeout=dict(type="int", default=10),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params["timeout"] < 1:
        module.fail_json(msg="timeout must be at least 1 second, not %d" % params["timeout"])

    binary = find_binary(module, params["binary"])
    cmd = [binary, "facts", "--format", "json", "--timeout", str(params["timeout"])]
    if params["root"]:
        cmd += ["--root", params["root"]]
    if params["name"]:
        cmd += ["--name", params["name"]]

    # NO_COLOR: diagnostics on stderr without escape codes, as they end up in a message.
    rc, out, err = module.run_command(cmd, environ_update={"NO_COLOR": "1"})
    if rc != 0:
        module.fail_json(
            msg="%s exited with status %d: %s" % (" ".join(cmd), rc, quote(err) or quote(out) or "(no output)"),
            rc=rc,
            stdout=out,
            stderr=err,
            cmd=cmd,
        )
    try:
        doc = json.loads(out)
    except ValueError as e:
        module.fail_json(
            msg="%s printed something that is not JSON (%s), so not a preflight facts document: %s"
            % (" ".join(cmd), e, quote(out) or "(nothing)"),
            rc=rc,
            stdout=out,
            stderr=err,
            cmd=cmd,
        )
    why = check_document(doc)
    if why is not None:
        module.fail_json(
            msg="%s printed JSON that is not a preflight facts document (%s): %s" % (" ".join(cmd), why, quote(out)),
            rc=rc,
            stdout=out,
            stderr=err,
            cmd=cmd,
        )
    module.exit_json(changed=False, preflight_facts=doc, ansible_facts=dict(preflight_facts=doc), cmd=cmd)


if __name__ == "__main__":
    main()
