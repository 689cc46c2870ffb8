#!/usr/bin/env python3
# Checks the container files without a Docker engine: parses docker-compose.yml (YAML) and
# the Dockerfile (instructions, continuation lines, stages) and checks the keys and
# instructions the project relies on, including that the two agree with each other and with
# the variables the binary reads (src/config.rs).
#
#   container_files.py check     exit 1 with one line per problem
#   container_files.py runtime   print the final stage's user and ENV as shell assignments,
#                                so container-check.sh runs the binary as the image would
import json
import re
import shlex
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
problems = []


def problem(text):
    problems.append(text)


def dockerfile_instructions(path):
    """(instruction, arguments) pairs, with continuation lines joined and comments dropped."""
    instructions, current = [], ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if current and line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        keyword, _, rest = current.strip().partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        current = ""
    return instructions


def stages(instructions):
    """Instructions grouped by FROM; each stage is (from arguments, [instructions])."""
    result = []
    for keyword, rest in instructions:
        if keyword == "FROM":
            result.append((rest, []))
        elif result:
            result[-1][1].append((keyword, rest))
    return result


def env_pairs(arguments):
    """ENV in `K=V K2=V2` form (the legacy `K V` form too)."""
    words = shlex.split(arguments)
    if words and "=" not in words[0]:
        return {words[0]: " ".join(words[1:])}
    return dict(w.split("=", 1) for w in words)


def exec_form(arguments):
    try:
        value = json.loads(arguments)
    except ValueError:
        return None
    return value if isinstance(value, list) else None


def check_dockerfile():
    instructions = dockerfile_instructions(ROOT / "Dockerfile")
    all_stages = stages(instructions)
    if len(all_stages) < 2:
        problem("Dockerfile: expected a build stage and a runtime stage")
        return {}
    build_from, build = all_stages[0]
    final_from, final = all_stages[-1]
    if not build_from.startswith("rust:"):
        problem(f"Dockerfile: the build stage should start from the official rust image, not {build_from}")
    if not (final_from.startswith("debian:") and "-slim" in final_from) and "distroless" not in final_from:
        problem(f"Dockerfile: the runtime stage should be Debian slim or distroless, not {final_from}")
    if not any(k == "RUN" and "cargo build --release --locked" in a for k, a in build):
        problem("Dockerfile: the build stage must run `cargo build --release --locked`")

    runtime = {"env": {}}
    for keyword, arguments in final:
        if keyword == "ENV":
            runtime["env"].update(env_pairs(arguments))
        elif keyword == "USER":
            runtime["user"] = arguments
        elif keyword in ("EXPOSE", "VOLUME", "HEALTHCHECK", "ENTRYPOINT", "CMD"):
            runtime.setdefault(keyword.lower(), []).append(arguments)

    user = runtime.get("user", "")
    uid, _, gid = user.partition(":")
    if not uid.isdigit() or int(uid) == 0 or (gid and (not gid.isdigit() or int(gid) == 0)):
        problem(f"Dockerfile: USER must be a numeric non-root uid[:gid], not {user!r}")
    runtime["uid"], runtime["gid"] = uid, gid or uid

    if "5678" not in " ".join(runtime.get("expose", [])).split():
        problem("Dockerfile: EXPOSE 5678 missing")
    env = runtime["env"]
    if env.get("N8N_LISTEN_ADDRESS") != "0.0.0.0":
        problem("Dockerfile: ENV N8N_LISTEN_ADDRESS=0.0.0.0 missing (the binary defaults to loopback)")
    if env.get("N8N_PORT", "5678") != "5678":
        problem("Dockerfile: N8N_PORT must match EXPOSE 5678")
    volumes = []
    for arguments in runtime.get("volume", []):
        volumes += exec_form(arguments) or arguments.split()
    runtime["volumes"] = volumes
    folder = env.get("N8N_USER_FOLDER")
    if not folder or folder not in volumes:
        problem(f"Dockerfile: N8N_USER_FOLDER ({folder}) must be a VOLUME ({volumes})")

    healthchecks = runtime.get("healthcheck", [])
    if len(healthchecks) != 1:
        problem("Dockerfile: exactly one HEALTHCHECK expected")
    else:
        _, _, command = healthchecks[0].partition("CMD ")
        words = exec_form(command.strip())
        if not words or not words[0].endswith("/flowgate") or words[1:] != ["healthcheck"]:
            problem(f"Dockerfile: HEALTHCHECK should run [\"<path>/flowgate\", \"healthcheck\"], not {command!r}")
    entrypoint = exec_form((runtime.get("entrypoint") or ["null"])[-1]) or []
    if not entrypoint or not entrypoint[0].endswith("/flowgate"):
        problem("Dockerfile: ENTRYPOINT should be the flowgate binary in exec form")
    runtime["binary"] = entrypoint[0] if entrypoint else ""
    return runtime


def config_variables():
    # The server's settings and the engine's (src/config.rs, src/engine/config.rs).
    text = "".join(path.read_text() for path in sorted((ROOT / "src").rglob("config.rs")))
    return set(re.findall(r'env = "([A-Z0-9_]+)"', text)) | {"N8N_OWNER_PASSWORD"}


def check_compose(runtime):
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose.get("services") or {}
    server, postgres = services.get("flowgate"), services.get("postgres")
    if not server or not postgres:
        problem("compose: services `flowgate` and `postgres` expected")
        return
    declared = set((compose.get("volumes") or {}).keys())

    if not str(postgres.get("image", "")).startswith("postgres:"):
        problem("compose: postgres should use the official postgres image")
    test = postgres.get("healthcheck", {}).get("test")
    if "pg_isready" not in json.dumps(test):
        problem("compose: postgres needs a pg_isready health check")
    pg_volumes = [v.split(":") for v in postgres.get("volumes", [])]
    if not any(v[0] in declared and v[1] == "/var/lib/postgresql/data" for v in pg_volumes):
        problem("compose: postgres data must be a named volume at /var/lib/postgresql/data")

    condition = (server.get("depends_on") or {}).get("postgres", {}).get("condition")
    if condition != "service_healthy":
        problem("compose: flowgate must depend on postgres with condition service_healthy")
    if server.get("build", {}).get("context") != ".":
        problem("compose: flowgate should build the Dockerfile in this folder")

    env = {k: str(v) for k, v in (server.get("environment") or {}).items()}
    known = config_variables()
    for name in env:
        if name not in known:
            problem(f"compose: {name} is not a variable the binary reads")
    pg_env = postgres.get("environment") or {}
    expected = {
        "DB_TYPE": "postgresdb",
        "DB_POSTGRESDB_HOST": "postgres",
        "DB_POSTGRESDB_PORT": "5432",
        "DB_POSTGRESDB_DATABASE": str(pg_env.get("POSTGRES_DB")),
        "DB_POSTGRESDB_USER": str(pg_env.get("POSTGRES_USER")),
        "DB_POSTGRESDB_PASSWORD": str(pg_env.get("POSTGRES_PASSWORD")),
        "N8N_LISTEN_ADDRESS": "0.0.0.0",
        "N8N_USER_FOLDER": runtime.get("env", {}).get("N8N_USER_FOLDER"),
    }
    for name, value in expected.items():
        if env.get(name) != value:
            problem(f"compose: flowgate {name} should be {value!r}, is {env.get(name)!r}")
    if not re.fullmatch(r"\$\{N8N_ENCRYPTION_KEY:\?[^}]*\}", env.get("N8N_ENCRYPTION_KEY", "")):
        problem("compose: N8N_ENCRYPTION_KEY must come from the environment or .env, required (${N8N_ENCRYPTION_KEY:?...})")

    port = runtime.get("env", {}).get("N8N_PORT", "5678")
    if env.get("N8N_PORT", port) != port:
        problem("compose: N8N_PORT differs from the image's")
    if not any(str(p).split(":")[-1] == port for p in server.get("ports", [])):
        problem(f"compose: no published port maps to the container's {port}")
    mounts = [v.split(":") for v in server.get("volumes", [])]
    folder = runtime.get("env", {}).get("N8N_USER_FOLDER")
    if not any(m[0] in declared and m[1] == folder for m in mounts):
        problem(f"compose: the data folder {folder} must be a named volume")


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "check"
    runtime = check_dockerfile()
    check_compose(runtime)
    if problems:
        for text in problems:
            print(text, file=sys.stderr)
        sys.exit(1)
    if mode == "runtime":
        print(f"IMAGE_UID={shlex.quote(runtime['uid'])}")
        print(f"IMAGE_GID={shlex.quote(runtime['gid'])}")
        print(f"IMAGE_BINARY={shlex.quote(runtime['binary'])}")
        env = " ".join(shlex.quote(f"{k}={v}") for k, v in runtime["env"].items())
        print(f"IMAGE_ENV=({env})")
    else:
        print("Dockerfile and docker-compose.yml: ok")


if __name__ == "__main__":
    main()
