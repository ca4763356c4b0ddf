"""What the analysis follows on shapes real handlers take: classes across modules, objects as handlers,
web apps behind adapters, functions picked from tables, writers of /tmp it knows only by what their
names say, library objects handed request data, and the calls it cannot follow (said, not hidden)."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lambda_fix.analysis import flow as flow_facts
from lambda_fix.analysis import handlers
from lambda_fix.analysis import module as module_facts
from lambda_fix.analysis.project import Project


def project_of(root: Path, files: dict[str, str], main: str = "app.py") -> tuple[Project, module_facts.ModuleInfo]:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    project = Project(lambda path: Path(path).read_text(), boundary=root, files=tuple(
        str(root / name) for name in files))
    module = project.module_at(str(root / main))
    assert module is not None
    return project, module


def handler_flow(root: Path, files: dict[str, str], name: str = "lambda_handler") -> flow_facts.HandlerFlow:
    project, module = project_of(root, files)
    return flow_facts.analyze(project, module, module.functions[name])


def test_a_method_a_base_class_in_another_module_defines_writes_the_module_level_object(tmp_path: Path) -> None:
    found = handler_flow(tmp_path, {
        "base.py": """
            class Provider:
                def __init__(self):
                    self.response = {"Data": {}}
                def handle(self, request):
                    self.request = request
                    self.create()
                def set_attribute(self, name, value):
                    self.response["Data"][name] = value
            """,
        "secret.py": """
            from base import Provider
            class SecretProvider(Provider):
                def create(self):
                    self.set_attribute(self.request["Name"], "x")
            """,
        "app.py": """
            from secret import SecretProvider
            provider = SecretProvider()
            def lambda_handler(event, context):
                return provider.handle(event)
            """,
    })
    # `self.create()` in the base's `handle` runs the subclass's `create`; the request reaches it
    # through `self.request`, and what `set_attribute` writes stays in the module-level object.
    assert {name for _, name in found.reached} >= {"Provider.handle", "SecretProvider.create", "Provider.set_attribute"}
    written = [(m.function[1], m.attribute, m.per_request_value) for m in found.object_mutations]
    assert ("Provider.set_attribute", "response", True) in written
    assert not found.mutations  # no module-level container is involved


@pytest.mark.parametrize("call", ["Parser.make(event)", "Parser().run(event)", "Child().run(event)"])
def test_static_class_and_inherited_methods_are_reached(tmp_path: Path, call: str) -> None:
    found = handler_flow(tmp_path, {"app.py": f"""
        SEEN = []
        class Parser:
            @staticmethod
            def make(value):
                SEEN.append(value)
            @classmethod
            def build(cls, value):
                cls.make(value)
            def run(self, value):
                self.build(value)
        class Child(Parser):
            def run(self, value):
                super().run(value)
        def lambda_handler(event, context):
            {call}
        """})
    assert any(m.state[1] == "SEEN" and m.per_request_value for m in found.mutations)


def test_a_call_through_a_module_level_table_reaches_every_function_in_it(tmp_path: Path) -> None:
    project, module = project_of(tmp_path, {"app.py": """
        SEEN = []
        def on_create(event, context):
            SEEN.append(event["id"])
        def on_delete(event, context):
            return None
        HANDLERS = {"Create": on_create, "Delete": on_delete}
        def lambda_handler(event, context):
            return HANDLERS[event["RequestType"]](event, context)
        """})
    assert [f.name for f in handlers.find_handlers(module)] == ["lambda_handler"]
    found = flow_facts.analyze(project, module, module.functions["lambda_handler"])
    assert {name for _, name in found.reached} == {"lambda_handler", "on_create", "on_delete"}
    assert any(m.state[1] == "SEEN" and m.per_request_value for m in found.mutations)
    assert not found.unfollowed


def test_routes_of_a_router_in_another_module_are_entries_when_an_adapter_is_in_the_run(tmp_path: Path) -> None:
    router = """
        from fastapi import APIRouter
        router = APIRouter()
        @router.post("/items")
        def add(item: dict):
            return item
        @router.on_event("startup")
        def warm_up():
            return None
        """
    assert handlers.may_contain_handler(textwrap.dedent(router))
    project, module = project_of(tmp_path, {
        "routes.py": router,
        "app.py": "from fastapi import FastAPI\nfrom mangum import Mangum\nimport routes\napp = FastAPI()\n"
                  "app.include_router(routes.router)\nhandler = Mangum(app)\n",
    }, main="routes.py")
    assert handlers.adapted(project, module) is True
    assert [f.name for f in handlers.framework_entries(module, True)] == ["add"]
    # a router in a run without an adapter: not a Lambda handler's
    alone_project, alone = project_of(tmp_path / "alone", {"routes.py": router}, main="routes.py")
    assert handlers.framework_entries(alone, handlers.adapted(alone_project, alone)) == []
    # the adapter itself is not a handler object to analyse as a call
    app = project.module_at(str(tmp_path / "app.py"))
    assert app is not None and handlers.object_entries(app) == []


def test_a_library_object_handed_request_data_is_recorded_and_clients_are_not(tmp_path: Path) -> None:
    found = handler_flow(tmp_path, {"app.py": """
        import boto3
        from langchain.memory import ConversationBufferMemory
        from langchain_aws import ChatBedrock
        memory = ConversationBufferMemory()
        llm = ChatBedrock(model_id="m")
        table = boto3.resource("dynamodb").Table("t")
        queue = boto3.client("sqs")
        def lambda_handler(event, context):
            memory.save_context({"input": event["q"]}, {})
            table.put_item(Item=event)
            queue.send_message(QueueUrl="u", MessageBody=event["q"])
            return llm.invoke(event["q"])
        """})
    assert [(f.state[1], f.method, f.constructor) for f in found.feeds] == [
        ("memory", "save_context", "langchain.memory.ConversationBufferMemory")]
    assert [u.what for u in found.unfollowed] == ["llm.invoke"]


@pytest.mark.parametrize(("body", "unfollowed"), [
    ("getattr(router, 'on_' + event['kind'])(event)", ["getattr(router, 'on_' + event['kind'])"]),
    ("handler = pick(event); handler(event)", ["handler"]),
    ("json.dumps(event)", []),  # a library function by name: its effects are known
    ("callback(event)", []),  # a parameter: the caller's function, followed where it is passed
])
def test_calls_with_request_data_it_cannot_follow_are_recorded(tmp_path: Path, body: str,
                                                                unfollowed: list[str]) -> None:
    found = handler_flow(tmp_path, {"app.py": f"""
        import json
        router = object()
        def pick(event):
            return print
        def lambda_handler(event, context, callback=print):
            {body}
        """})
    assert [u.what for u in found.unfollowed] == unfollowed


@pytest.mark.parametrize(("call", "written"), [
    ('img.save("/tmp/x.png")', True),
    ('git.Repo.clone_from(url, "/tmp/x.png")', True),
    ('obj.download_file("/tmp/x.png")', True),  # a boto3 Object: the file name is its only argument
    ('bucket.download_file("key", Filename="/tmp/x.png")', True),
    ('audio.export("/tmp/x.png", format="mp3")', True),
    ('joblib.dump(model, "/tmp/x.png")', True),
    ('gzip.open("/tmp/x.png", "wb")', True),
    ('subprocess.run(["ffmpeg", "-i", src, "/tmp/x.png"])', True),
    ('subprocess.run(["/tmp/x.png", "--version"])', False),  # the program itself
    ('gzip.open("/tmp/x.png")', False),
    ('Image.open("/tmp/x.png")', False),
    ('s3.upload_file("/tmp/x.png", "bucket", "key")', False),
])
def test_a_call_writes_a_path_when_its_name_or_mode_says_so(call: str, written: bool) -> None:
    from lambda_fix.rules._tmp_writes import written_paths

    source = f"import git, gzip, joblib, subprocess\nfrom PIL import Image\nx = {call}\n"
    module = module_facts.build("/p/app.py", "app", source, ast.parse(source))
    node = module.tree.body[-1].value  # type: ignore[attr-defined]
    paths = [target for target, _ in written_paths(module, node, {})]
    assert any(isinstance(p, ast.Constant) and p.value == "/tmp/x.png" for p in paths) is written


def test_statistics_and_verbose_say_what_could_not_be_followed(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(textwrap.dedent("""
        from langchain_aws import ChatBedrock
        llm = ChatBedrock(model_id="m")
        def lambda_handler(event, context):
            return llm.invoke(event["q"])
        """))
    run = lambda *options: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "lambda_fix", "--check", "--no-cache", *options, "app.py"],
        cwd=tmp_path, capture_output=True, text=True)
    statistics = run("--statistics")
    assert "    1\t\tcalls with request data that lambda-fix could not follow (-v lists them)\n" in statistics.stdout
    verbose = run("-v")
    assert ("app.py:5: request data goes into `llm.invoke` in `lambda_handler`, which lambda-fix could not "
            "follow\n") in verbose.stderr
    assert statistics.returncode == verbose.returncode == 0


@pytest.mark.parametrize("call", [
    "with ThreadPoolExecutor() as pool:\n                list(pool.map(keep, event['items']))",
    "asyncio.run(asyncio.gather(*[keep_async(item) for item in event['items']]))",
    "for _ in produce(event['items']):\n                pass",
    "decorated(event['items'][0])",
    "list(map(keep, event['items']))",
])
def test_work_handed_to_executors_generators_and_decorated_functions_is_followed(tmp_path: Path, call: str) -> None:
    found = handler_flow(tmp_path, {"app.py": f"""
        import asyncio
        import functools
        from concurrent.futures import ThreadPoolExecutor
        SEEN = []
        def keep(item):
            SEEN.append(item)
        async def keep_async(item):
            SEEN.append(item)
        def produce(items):
            for item in items:
                SEEN.append(item)
                yield item
        def logged(function):
            @functools.wraps(function)
            def wrapper(*args):
                return function(*args)
            return wrapper
        @logged
        def decorated(item):
            SEEN.append(item)
        def lambda_handler(event, context):
            {call}
        """})
    assert any(m.state[1] == "SEEN" and m.per_request_value for m in found.mutations)


def test_a_function_defined_inside_the_handler_is_followed_not_counted_as_unfollowed(tmp_path: Path) -> None:
    found = handler_flow(tmp_path, {"app.py": """
        SEEN = []
        def lambda_handler(event, context):
            def bucket_of(event):
                SEEN.append(event["bucket"])
                return event["bucket"]
            return bucket_of(event)
        """})
    assert not found.unfollowed
    assert any(m.state[1] == "SEEN" and m.per_request_value for m in found.mutations)


def test_a_handler_made_with_partial_gets_its_findings(tmp_path: Path) -> None:
    """The handler is an object, not a function of the module: deciding how state could be passed to
    the helpers it calls must not look it up among them (that once failed the whole file)."""
    (tmp_path / "app.py").write_text(textwrap.dedent('''\
        import functools

        SEEN = []


        def record(event):
            SEEN.append(event)


        def process(event, context, extra):
            record(event)
            return len(SEEN)


        lambda_handler = functools.partial(process, extra=1)
        '''))
    done = subprocess.run([sys.executable, "-m", "lambda_fix", "--no-cache", "--check", "app.py"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert "internal error" not in done.stdout + done.stderr
    assert "LF001" in done.stdout or "LF002" in done.stdout, done.stdout
