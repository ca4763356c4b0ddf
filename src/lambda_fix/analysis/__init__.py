"""Pure facts about modules and projects, computed on the standard `ast`, knowing no rule.

Module facts (module.py), scopes, the flow from a handler through the project (flow.py), the order
statements run in, path by path (control.py), aliasing, how a name can be passed down a call chain
(parameters.py) and the project index (project.py) answer questions; the decisions in `rules/` ask them
and decide what the answers mean. libcst is
reserved for files that will be rewritten: parsing with `ast` is several times cheaper, and the
analysis needs names, scopes and positions only.
"""
