"""docker-compose.yml, the Kubernetes manifests, the image and the sbatch example agree with the code.

No Docker engine or cluster runs here, so these check structure: every service's command
is a module or script that exists and accepts its arguments, the environment uses only
variables psnet reads, the counts match DMLC_NUM_*, and restart policies follow the
fault-tolerance rules (servers restart and recover, workers and the scheduler do not).
"""
import importlib.util
import os
import pathlib
import re
import shlex
import subprocess

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML (the 'test' extra) parses the manifests")

REPO = pathlib.Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
_DEFAULT = re.compile(r"^\$\{(\w+):-([^}]*)\}$")


def _resolve(value, environ=None):
    """Compose interpolation of a whole-value ``${NAME:-default}``."""
    m = _DEFAULT.match(str(value))
    if not m:
        return str(value)
    return (environ or {}).get(m.group(1)) or m.group(2)


def _read_variables():
    """Environment variable names the code reads (quoted names in psnet/, launcher/, examples/,
    ``$NAME`` in the image's entrypoint)."""
    names = set(re.findall(r"\$\{?([A-Z][A-Z0-9_]+)", (DEPLOY / "entrypoint.sh").read_text()))
    for top in ("psnet", "launcher", "examples"):
        for path in (REPO / top).rglob("*.py"):
            names.update(re.findall(r"[\"']((?:DMLC|PSNET|PS|MXNET)_[A-Z0-9_]+)[\"']", path.read_text()))
    return names


READ = _read_variables()
CONFIG_VARS = set(re.findall(r"\"(DMLC_[A-Z_]+)\"", (REPO / "psnet/kvstore/dist/config.py").read_text()))


def _check_command(argv):
    """A container command runs an existing module (``python -m``) or repo script with valid flags."""
    if argv[0] == "psnet-entrypoint":
        argv = argv[1:] or ["python", "-m", "psnet.kvstore.dist.server"]
    assert argv[0] == "python", argv
    if argv[1] == "-m":
        assert importlib.util.find_spec(argv[2]) is not None, argv
        return argv[2], argv[3:]
    script = REPO / argv[1]
    assert script.is_file(), argv
    if script.name == "train_mnist.py":
        spec = importlib.util.spec_from_file_location("train_mnist", script)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        args = mod.parse_args(argv[2:])
        assert args.kv_store.startswith("dist_"), argv
    return argv[1], argv[2:]


def _check_env(env, role):
    for name in env:
        assert name in READ, "%s is set in a manifest but psnet never reads it" % name
    assert {"DMLC_PS_ROOT_URI", "DMLC_PS_ROOT_PORT", "DMLC_NUM_SERVER", "DMLC_NUM_WORKER"} <= CONFIG_VARS
    assert env["DMLC_ROLE"] == role


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_compose_services_wired_by_dmlc_variables(compose):
    services = compose["services"]
    assert set(services) == {"scheduler", "server", "worker"}
    port = None
    for role, svc in services.items():
        env = {k: _resolve(v) for k, v in svc["environment"].items()}
        _check_env(env, role)
        assert env["DMLC_PS_ROOT_URI"] == "scheduler"
        port = port or env["DMLC_PS_ROOT_PORT"]
        assert env["DMLC_PS_ROOT_PORT"] == port
        assert svc["networks"] == ["psnet"] and svc["build"]["dockerfile"] == "deploy/Dockerfile"
        module, rest = _check_command(svc["command"])
        assert module == {"scheduler": "psnet.kvstore.dist.scheduler", "server": "psnet.kvstore.dist.server",
                          "worker": "examples/train_mnist.py"}[role]
    sched = services["scheduler"]["healthcheck"]["test"]
    assert sched[:4] == ["CMD", "python", "-m", "psnet.kvstore.dist.health"] and sched[-1] == port
    for role in ("server", "worker"):
        env = services[role]["environment"]
        for count, var in (("server", "DMLC_NUM_SERVER"), ("worker", "DMLC_NUM_WORKER")):
            # default replicas and the DMLC count are the same variable with the same default
            assert services[count]["deploy"]["replicas"] == env[var], (role, var)
        assert services[role]["depends_on"]["scheduler"]["condition"] == "service_healthy"
        scaled = {"DMLC_NUM_WORKER": "4", "DMLC_NUM_SERVER": "2"}
        assert _resolve(env["DMLC_NUM_WORKER"], scaled) == _resolve(services["worker"]["deploy"]["replicas"], scaled)


def test_compose_volumes_and_restart_policies(compose):
    s = compose["services"]
    assert s["scheduler"]["restart"] == "no" and s["worker"]["restart"] == "no"
    assert s["server"]["restart"] == "on-failure"
    ckpt = s["server"]["environment"]["PSNET_CHECKPOINT_DIR"]
    assert any(_target(v) == ckpt for v in s["server"]["volumes"]) and "checkpoints" in compose["volumes"]
    data = s["worker"]["environment"]["PSNET_DATA"]
    assert any(_target(v) == data and v.endswith(":ro") for v in s["worker"]["volumes"])
    assert "PSNET_CLUSTER_SECRET" in s["server"]["environment"]


def _target(volume):
    """The container path of a compose ``source:target[:ro]`` volume."""
    parts = volume.split(":")
    return parts[-2] if parts[-1] in ("ro", "rw") else parts[-1]


def _k8s_docs():
    docs = {}
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            docs[(doc["kind"], doc["metadata"]["name"])] = doc
    return docs


def _container(doc):
    spec = doc["spec"]["template"]["spec"]
    (c,) = spec["containers"]
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in c["env"]}
    return spec, c, env


def test_k8s_manifests_agree():
    docs = _k8s_docs()
    svc = docs[("Service", "psnet-scheduler")]
    port = str(svc["spec"]["ports"][0]["port"])
    kinds = {"scheduler": ("Deployment", "psnet-scheduler"), "server": ("StatefulSet", "psnet-server"),
             "worker": ("Job", "psnet-worker")}
    envs = {}
    for role, key in kinds.items():
        doc = docs[key]
        spec, c, env = _container(doc)
        _check_env(env, role)
        envs[role] = env
        assert env["DMLC_PS_ROOT_URI"] == "psnet-scheduler" and env["DMLC_PS_ROOT_PORT"] == port
        assert doc["spec"]["template"]["metadata"]["labels"] == {"app": "psnet", "role": role}
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert env["PSNET_CLUSTER_SECRET"]["secretKeyRef"]["optional"] is True
        _check_command(c["command"] + c.get("args", []))
    assert svc["spec"]["selector"] == {"app": "psnet", "role": "scheduler"}
    servers, workers = docs[kinds["server"]], docs[kinds["worker"]]
    for env in envs.values():
        assert int(env["DMLC_NUM_SERVER"]) == servers["spec"]["replicas"]
        assert int(env["DMLC_NUM_WORKER"]) == workers["spec"]["completions"] == workers["spec"]["parallelism"]
    assert workers["spec"]["completionMode"] == "Indexed" and workers["spec"]["backoffLimit"] == 0
    assert envs["server"]["PSNET_RANK_FROM_HOSTNAME"] == "1"
    mounts = {m["mountPath"] for m in _container(servers)[1]["volumeMounts"]}
    assert envs["server"]["PSNET_CHECKPOINT_DIR"] in mounts
    assert docs[("Service", "psnet-server")]["spec"]["clusterIP"] == "None"
    kustom = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())
    assert sorted(kustom["resources"]) == sorted(p.name for p in (DEPLOY / "k8s").glob("*.yaml")
                                                 if p.name != "kustomization.yaml")


def test_dockerfiles():
    for name, base in (("Dockerfile", "python:3.11-slim"), ("Dockerfile.cuda", "nvidia/cuda:")):
        text = (DEPLOY / name).read_text()
        assert base in text, name
        user = re.search(r"^USER (\S+)", text, re.M).group(1)
        assert user not in ("root", "0")
        assert 'ENTRYPOINT ["psnet-entrypoint"]' in text
        for src in re.findall(r"^COPY (\S+)", text, re.M):
            assert (REPO / src).exists(), (name, src)
    assert "cupy" not in (DEPLOY / "Dockerfile").read_text()


def _entrypoint(tmp_path, env, *args):
    """Run deploy/entrypoint.sh with a fake ``python`` that prints its argv and DMLC_RANK."""
    fake = tmp_path / "python"
    fake.write_text('#!/bin/sh\necho "rank=${DMLC_RANK:-none} args=$*"\n')
    fake.chmod(0o755)
    full = {"PATH": "%s:%s" % (tmp_path, os.environ["PATH"]), **env}
    out = subprocess.run(["sh", str(DEPLOY / "entrypoint.sh"), *args], env=full, capture_output=True,
                         text=True, timeout=10)
    return out.returncode, out.stdout.strip() + out.stderr.strip()


def test_entrypoint_picks_role_and_rank(tmp_path):
    assert _entrypoint(tmp_path, {"DMLC_ROLE": "scheduler"}) == (0, "rank=none args=-m psnet.kvstore.dist.scheduler")
    assert _entrypoint(tmp_path, {"DMLC_ROLE": "server", "HOSTNAME": "psnet-server-3", "PSNET_RANK_FROM_HOSTNAME": "1"},
                       "python", "examples/train_mnist.py") == (0, "rank=3 args=-m psnet.kvstore.dist.server")
    assert _entrypoint(tmp_path, {"DMLC_ROLE": "worker", "JOB_COMPLETION_INDEX": "2"},
                       "python", "train.py") == (0, "rank=2 args=train.py")
    code, out = _entrypoint(tmp_path, {"DMLC_ROLE": "boss"})
    assert code == 2 and "DMLC_ROLE=boss" in out


def test_slurm_example_uses_psnet_launch():
    text = (DEPLOY / "slurm" / "psnet_mnist.sbatch").read_text()
    ntasks = int(re.search(r"--ntasks=(\d+)", text).group(1))
    workers = int(re.search(r"NUM_WORKERS:-(\d+)", text).group(1))
    servers = int(re.search(r"NUM_SERVERS:-(\d+)", text).group(1))
    assert ntasks == workers + servers
    line = " ".join(l.rstrip("\\").strip() for l in text.split("psnet-launch --launcher", 1)[1].splitlines()[:2])
    argv = shlex.split(("--launcher " + line).replace('"$NUM_WORKERS"', str(workers))
                       .replace('"$NUM_SERVERS"', str(servers)))
    from launcher.launch import parse_args
    args = parse_args(argv)
    assert (args.launcher, args.num_workers, args.num_servers) == ("slurm", workers, servers)
    _check_command(args.command)
    assert "psnet-launch keygen" in text
