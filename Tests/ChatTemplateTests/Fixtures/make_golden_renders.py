"""Golden renders of real chat templates, made with transformers' own apply_chat_template.

Run from this directory:  HF_HUB_OFFLINE=1 python3 make_golden_renders.py
Writes golden_renders.json (real templates x conversations) and golden_snippets.json (small templates that pin
down one Jinja feature each, rendered by transformers' Jinja environment: trim_blocks, lstrip_blocks, its tojson,
raise_exception, strftime_now, namespace, loopcontrols and generation blocks).

The templates in templates/ are the `chat_template` values of these checkpoints' tokenizer_config.json /
chat_template.json, as quoted verbatim in public repositories (found with code search; no model was downloaded):
  qwen2.5-instruct.jinja        Qwen/Qwen2.5-*-Instruct tokenizer_config.json
  llama-3.1-instruct.jinja      meta-llama/Llama-3.1-8B-Instruct tokenizer_config.json
  llama-3.2-instruct.jinja      meta-llama/Llama-3.2-1B-Instruct tokenizer_config.json (uses strftime_now)
  smollm2-instruct.jinja        HuggingFaceTB/SmolLM2-135M-Instruct tokenizer_config.json
  mistral-instruct-v0.3.jinja   mistralai/Mistral-7B-Instruct-v0.3 tokenizer_config.json
  phi-3-mini-instruct.jinja     microsoft/Phi-3-mini-4k-instruct tokenizer_config.json
  gemma-2-it.jinja              google/gemma-2-2b-it tokenizer_config.json
  llava-1.5-hf.jinja            llava-hf/llava-1.5-7b-hf chat_template.json
  llava-onevision-qwen2.jinja   llava-hf/llava-onevision-qwen2-0.5b-ov-hf chat_template.json

strftime_now is pinned to 2024-09-05 (the Swift tests inject the same date).
"""

import datetime
import json
import os

import jinja2
from tokenizers import Tokenizer
from tokenizers.models import WordLevel
from transformers import PreTrainedTokenizerFast
import transformers.utils.chat_template_utils as ctu

FIXED_NOW = datetime.datetime(2024, 9, 5, 14, 30, 0)


class FixedDateTime(datetime.datetime):
    @classmethod
    def now(cls, tz=None):
        return FIXED_NOW


ctu.datetime = FixedDateTime
ctu._compile_jinja_template.cache_clear()

HERE = os.path.dirname(os.path.abspath(__file__))

SPECIAL = {
    "qwen2.5-instruct": {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
    "llama-3.1-instruct": {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
    "llama-3.2-instruct": {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
    "smollm2-instruct": {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "unk_token": "<|endoftext|>",
                         "pad_token": "<|im_end|>"},
    "mistral-instruct-v0.3": {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"},
    "phi-3-mini-instruct": {"bos_token": "<s>", "eos_token": "<|endoftext|>", "unk_token": "<unk>",
                            "pad_token": "<|endoftext|>"},
    "gemma-2-it": {"bos_token": "<bos>", "eos_token": "<eos>", "unk_token": "<unk>", "pad_token": "<pad>"},
    "llava-1.5-hf": {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"},
    "llava-onevision-qwen2": {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
}

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "The city, e.g. Zürich"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    },
}


def text_conversations():
    return {
        "user": [{"role": "user", "content": "What is 2 + 3?"}],
        "system_user": [
            {"role": "system", "content": "You are a terse calculator."},
            {"role": "user", "content": "What is 2 + 3?"},
        ],
        "one_turn": [
            {"role": "user", "content": "Name a colour."},
            {"role": "assistant", "content": "Teal."},
        ],
        "multi_turn": [
            {"role": "system", "content": "Answer in one word."},
            {"role": "user", "content": "Capital of France?"},
            {"role": "assistant", "content": "Paris."},
            {"role": "user", "content": "  And of Japan, \"quoted\" — 日本?  "},
        ],
        "multi_turn_no_system": [
            {"role": "user", "content": "Hi!\nTwo lines."},
            {"role": "assistant", "content": " Hello. "},
            {"role": "user", "content": "Count to 3."},
            {"role": "assistant", "content": "1 2 3"},
        ],
    }


def image_conversations():
    return {
        "image_user": [
            {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is shown?"}]},
        ],
        "image_multi_turn": [
            {"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
            {"role": "user", "content": [{"type": "text", "text": "Describe"}, {"type": "image"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "A red square."}]},
            {"role": "user", "content": [{"type": "text", "text": "How many sides?"}]},
        ],
        "two_images": [
            {"role": "user", "content": [{"type": "image"}, {"type": "image"}, {"type": "text", "text": "Same?"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "No."}]},
        ],
    }


def tool_conversations(name):
    convs = {}
    if name in ("qwen2.5-instruct", "llama-3.1-instruct", "llama-3.2-instruct", "mistral-instruct-v0.3"):
        convs["tools_user"] = ([{"role": "user", "content": "Weather in Paris?"}], [WEATHER_TOOL])
        convs["tools_system_user"] = (
            [{"role": "system", "content": "Use tools."}, {"role": "user", "content": "Weather in Paris?"}],
            [WEATHER_TOOL],
        )
    if name == "qwen2.5-instruct":
        convs["tool_call_and_response"] = (
            [
                {"role": "user", "content": "Weather in Paris?"},
                {"role": "assistant", "content": "",
                 "tool_calls": [{"type": "function", "function": {"name": "get_weather",
                                                                   "arguments": {"city": "Paris", "unit": "celsius"}}}]},
                {"role": "tool", "content": "{\"temperature\": 21}"},
                {"role": "tool", "content": "sunny"},
            ],
            [WEATHER_TOOL],
        )
    if name == "mistral-instruct-v0.3":
        convs["tool_call_and_response"] = (
            [
                {"role": "user", "content": "Weather in Paris?"},
                {"role": "assistant", "tool_calls": [{"id": "abc123def", "type": "function", "function": {
                    "name": "get_weather", "arguments": {"city": "Paris"}}}]},
                {"role": "tool", "tool_call_id": "abc123def", "content": "21 C"},
                {"role": "assistant", "content": "It is 21 C."},
                {"role": "user", "content": "Thanks"},
            ],
            [WEATHER_TOOL],
        )
    return convs


def make_tokenizer(special, template):
    vocab = {"<unk>": 0}
    for token in special.values():
        vocab.setdefault(token, len(vocab))
    model = Tokenizer(WordLevel(vocab, unk_token="<unk>"))
    return PreTrainedTokenizerFast(tokenizer_object=model, chat_template=template, **special)


def render(tokenizer, messages, add_generation_prompt, tools=None, **kwargs):
    try:
        text = tokenizer.apply_chat_template(messages, tools=tools, tokenize=False,
                                             add_generation_prompt=add_generation_prompt, **kwargs)
        return {"text": text}
    except jinja2.exceptions.TemplateError as error:
        return {"error": str(error)}


def golden_renders():
    cases = []
    for name in sorted(SPECIAL):
        with open(os.path.join(HERE, "templates", name + ".jinja"), encoding="utf-8") as f:
            template = f.read()
        special = SPECIAL[name]
        tokenizer = make_tokenizer(special, template)
        multimodal = name.startswith("llava")
        conversations = image_conversations() if multimodal else text_conversations()
        for conv_name, messages in conversations.items():
            for gen in (True, False):
                case = {"template": name, "conversation": conv_name, "special_tokens": special,
                        "messages": messages, "add_generation_prompt": gen}
                case.update(render(tokenizer, messages, gen))
                cases.append(case)
        for conv_name, (messages, tools) in tool_conversations(name).items():
            case = {"template": name, "conversation": conv_name, "special_tokens": special,
                    "messages": messages, "tools": tools, "add_generation_prompt": True}
            case.update(render(tokenizer, messages, True, tools=tools))
            cases.append(case)
        if name.startswith("llama"):
            # Extra keyword arguments reach the template (date_string, tools_in_user_message, builtin_tools).
            messages = text_conversations()["system_user"]
            extra = {"date_string": "01 Jan 2025", "tools_in_user_message": False}
            case = {"template": name, "conversation": "kwargs_tools_in_system", "special_tokens": special,
                    "messages": messages, "tools": [WEATHER_TOOL], "add_generation_prompt": True, "kwargs": extra}
            case.update(render(tokenizer, messages, True, tools=[WEATHER_TOOL], **extra))
            cases.append(case)
    return cases


# Small templates, one feature each, rendered with the same environment transformers uses.
SNIPPETS = [
    ("text", "Hello {{ name }}!", {"name": "world"}),
    ("undefined_prints_empty", "[{{ nothing }}]", {}),
    ("undefined_is_falsy", "{% if nothing %}yes{% else %}no{% endif %}", {}),
    ("trim_blocks", "{% if true %}\nA\n{% endif %}\nB", {}),
    ("lstrip_blocks", "x\n    {% if true %}\n    y\n    {% endif %}\nz", {}),
    ("dash_control", "a  {{- ' b ' -}}  c\n  {%- if true %} d {% endif -%}\n e", {}),
    ("comment", "a {# hidden #} b {#- tight -#} c", {}),
    ("raw_newline_trailing", "line\n", {}),
    ("for_loop_vars", "{% for x in items %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/"
     "{{ loop.first }}/{{ loop.last }}/{{ loop.length }};{% endfor %}", {"items": ["a", "b", "c"]}),
    ("for_prev_next", "{% for x in items %}{{ loop.previtem }}<{{ x }}>{{ loop.nextitem }}|{% endfor %}",
     {"items": [1, 2, 3]}),
    ("for_else", "{% for x in items %}{{ x }}{% else %}empty{% endfor %}", {"items": []}),
    ("for_if_filter", "{% for x in items if x % 2 == 1 %}{{ x }}{{ loop.index }},{% endfor %}", {"items": [1, 2, 3, 4, 5]}),
    ("for_unpack_items", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", {"d": {"b": 1, "a": [2, 3]}}),
    ("for_dict", "{% for k in d %}{{ k }},{% endfor %}", {"d": {"x": 1, "y": 2}}),
    ("for_string", "{% for c in 'abc' %}{{ c }}-{% endfor %}", {}),
    ("loop_controls", "{% for x in items %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}"
     "{{ x }}{% endfor %}", {"items": [1, 2, 3, 4, 5]}),
    ("nested_loop", "{% for a in [1, 2] %}{% for b in 'xy' %}{{ loop.index }}{{ b }}{% endfor %}{{ loop.index }}{% endfor %}", {}),
    ("if_elif", "{% for x in [1, 2, 3] %}{% if x == 1 %}one{% elif x == 2 %}two{% else %}many{% endif %} {% endfor %}", {}),
    ("set_scoping", "{% set x = 1 %}{% for i in [1, 2] %}{% set x = x + i %}{{ x }}{% endfor %}|{{ x }}", {}),
    ("namespace", "{% set ns = namespace(total=0, seen=false) %}{% for i in [1, 2, 3] %}{% set ns.total = ns.total + i %}"
     "{% endfor %}{{ ns.total }} {{ ns.seen }}", {}),
    ("block_set", "{% set greeting %}Hi {{ name }}!{% endset %}[{{ greeting | upper }}]", {"name": "Ann"}),
    ("macro", "{% macro wrap(text, left='<', right='>') %}{{ left }}{{ text }}{{ right }}{% endmacro %}"
     "{{ wrap('a') }}{{ wrap('b', '[', right=']') }}", {}),
    ("macro_caller", "{% macro box() %}[{{ caller() }}]{% endmacro %}{% call box() %}inside{% endcall %}", {}),
    ("generation_block", "A{% generation %}B{{ 1 + 1 }}{% endgeneration %}C", {}),
    ("arithmetic", "{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 / 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }}"
     " {{ 4 / 2 }} {{ 1.5 + 1 }} {{ 0.1 + 0.2 }} {{ 10 / 4 }} {{ 1e3 }} {{ 3 - 5 }}", {}),
    ("string_ops", "{{ 'a' + 'b' }} {{ 'ab' * 3 }} {{ 1 ~ 'x' ~ none ~ true }} {{ 'abc'[1] }} {{ 'abcdef'[1:4] }}"
     " {{ 'abc'[::-1] }} {{ 'abcdef'[-2:] }} {{ [1, 2, 3, 4][::2] }}", {}),
    ("comparisons", "{{ 1 < 2 }} {{ 2 <= 1 }} {{ 'a' == 'a' }} {{ 'a' != 'b' }} {{ 1 == 1.0 }} {{ [1, 2] == [1, 2] }}"
     " {{ 'b' > 'a' }} {{ none == none }} {{ 1 < 2 < 3 }}", {}),
    ("logic", "{{ true and false }} {{ true or false }} {{ not true }} {{ none or 'x' }} {{ 0 and 'y' }} {{ '' or [] }}"
     " {{ 'a' in 'cat' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 3 not in [1] }}", {}),
    ("ternary", "{{ 'yes' if x else 'no' }} {{ 'yes' if y else 'no' }} [{{ 'only' if false }}]", {"x": 1, "y": []}),
    ("literals", "{{ [1, 'two', 3.5, true, none] }} {{ {'a': 1, 'b': [2]} }} {{ (1, 2) }} {{ (1,) }} {{ 'it''s' if false else \"it's\" }}", {}),
    ("print_values", "{{ none }}|{{ true }}|{{ false }}|{{ 1.0 }}|{{ 2.50 }}|{{ 1e20 }}|{{ 123456789012 }}|{{ -0.0 }}|{{ 1/3 }}", {}),
    ("print_nested", "{{ m }} {{ l }}", {"m": {"s": "q'uote", "n": None, "b": False, "f": 1.25}, "l": ["x", 1, [None]]}),
    ("escapes", "{{ 'tab\\there' }}|{{ \"nl\\nx\" }}|{{ 'back\\\\slash' }}|{{ 'q\\'s' }}|{{ 'u\\u00e9' }}", {}),
    ("filters_text", "{{ '  pad  ' | trim }}|{{ 'MiXed' | lower }}|{{ 'MiXed' | upper }}|{{ 'hello world' | capitalize }}"
     "|{{ 'hello wORLD-foo bar_baz' | title }}|{{ 'a-b-a' | replace('a', 'x') }}|{{ 'xxx' | replace('x', 'y', 2) }}", {}),
    ("filters_seq", "{{ [3, 1, 2] | length }} {{ 'abc' | count }} {{ [3, 1, 2] | first }} {{ [3, 1, 2] | last }}"
     " {{ [3, 1, 2] | join(',') }} {{ [3, 1, 2] | sort | list }} {{ [3, 1, 2] | reverse | list }} {{ [1, 2, 1, 3] | unique | list }}"
     " {{ ['b', 'A', 'c'] | sort }} {{ [3, 1, 2] | sort(reverse=true) }} {{ 'abc' | list }} {{ [1, [2]] | join('-') }}", {}),
    ("filters_numbers", "{{ 2.567 | round }} {{ 2.567 | round(2) }} {{ 2.5 | round }} {{ 3.5 | round }} {{ -3 | abs }}"
     " {{ '42' | int }} {{ 'x' | int }} {{ 3.9 | int }} {{ '2.5' | float }} {{ 7 | float }} {{ 2.4 | round(0, 'ceil') }}"
     " {{ 2.6 | round(0, 'floor') }}", {}),
    ("filters_default", "{{ missing | default('d') }} {{ '' | default('e') }} {{ '' | default('e', true) }} {{ none | d('n') }}"
     " {{ 0 | default(5) }}", {}),
    ("filters_string_safe", "{{ 5 | string }}{{ none | string }}{{ [1] | string }}{{ '<b>' | safe }}", {}),
    ("filters_items_dictsort", "{{ d | items | list }} {{ d | dictsort }} {{ d | dictsort(reverse=true) }}",
     {"d": {"b": 2, "a": 1, "C": 3}}),
    ("filters_select", "{{ people | selectattr('age', 'gt', 30) | map(attribute='name') | join(',') }};"
     "{{ people | rejectattr('admin') | map(attribute='name') | list }};{{ people | selectattr('admin') | list | length }};"
     "{{ [1, 2, 3, 4] | select('even') | list }};{{ [1, 2, 3, 4] | reject('odd') | list }};{{ [0, 1, '', 'a'] | select | list }};"
     "{{ people | map(attribute='missing', default='?') | list }};{{ ['a', 'b'] | map('upper') | list }};"
     "{{ people | selectattr('name', 'equalto', 'Bo') | first }}",
     {"people": [{"name": "Al", "age": 40, "admin": True}, {"name": "Bo", "age": 25, "admin": False},
                 {"name": "Cy", "age": 31}]}),
    ("filters_tojson", "{{ d | tojson }}|{{ d | tojson(indent=2) }}|{{ 'é\"<' | tojson }}|{{ [1.0, 2.5, none, true] | tojson }}"
     "|{{ d | tojson(separators=(',', ':')) }}|{{ {} | tojson(indent=4) }}|{{ [] | tojson(indent=2) }}",
     {"d": {"z": [1, {"y": "ü"}], "a": None, "n": 10000000000.0, "e": 1e-7}}),
    ("filters_indent", "{{ 'a\\nb\\n\\nc' | indent }}|{{ 'a\\nb' | indent(2, true) }}|{{ 'a\\nb' | indent('> ') }}", {}),
    ("filters_batch_sum_minmax", "{{ [1, 2, 3, 4, 5] | batch(2) | list }} {{ [1, 2, 3] | sum }} {{ [3, 1, 2] | min }} {{ [3, 1, 2] | max }}"
     " {{ 'a,b' | split(',') if false else 'skip' }}", {}),
    ("tests", "{{ x is defined }} {{ y is undefined }} {{ none is none }} {{ 'a' is string }} {{ {} is mapping }}"
     " {{ [] is iterable }} {{ 'a' is iterable }} {{ [] is sequence }} {{ 1 is number }} {{ 1.5 is integer }} {{ 2 is integer }}"
     " {{ true is boolean }} {{ true is true }} {{ 0 is false }} {{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }}"
     " {{ 2 is equalto 2 }} {{ 2 is eq 3 }} {{ 'a' is in 'abc' }} {{ 1 is not none }} {{ x is not defined }} {{ 5 is gt 3 }}"
     " {{ 5 is ge 5 }} {{ 1 is lt 0 }} {{ 1 is ne 1 }} {{ true is number }} {{ 'x' is lower }} {{ 'X' is upper }}", {"x": 1}),
    ("string_methods", "{{ '  a b  '.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ '  a'.lstrip() }}|{{ 'a  '.rstrip() }}|{{ 'a,b,,c'.split(',') }}"
     "|{{ ' a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'abc'.startswith('ab') }}|{{ 'abc'.endswith('bc') }}"
     "|{{ 'ab'.upper() }}|{{ 'AB'.lower() }}|{{ 'hello there'.title() }}|{{ 'aaa'.replace('a', 'b', 2) }}"
     "|{{ '-'.join(['x', 'y']) }}|{{ 'hello'.capitalize() }}|{{ 'abcabc'.find('c') }}|{{ 'abcabc'.count('b') }}"
     "|{{ '{} and {}'.format(1, 'two') }}|{{ 'a\\nb'.splitlines() }}|{{ 'abc'.startswith(('x', 'a')) }}", {}),
    ("dict_methods", "{{ d.keys() | list }} {{ d.values() | list }} {{ d.get('a') }} {{ d.get('z') }} {{ d.get('z', 9) }}"
     " {{ d['a'] }} {{ d.a }} {{ d.items() | list }}", {"d": {"a": 1, "b": 2}}),
    ("list_append", "{% set xs = [] %}{% for i in [1, 2, 3] %}{% if xs.append(i * 2) %}{% endif %}{% endfor %}{{ xs }}", {}),
    ("attr_on_missing", "[{{ d.missing }}][{{ d['missing'] }}][{{ l[5] }}][{{ (d.missing or 'x') }}]", {"d": {"a": 1}, "l": [1]}),
    ("negative_index", "{{ l[-1] }} {{ l[-2] }} {{ l[1:] }} {{ l[:-1] }} {{ l[5:] }}", {"l": [1, 2, 3]}),
    ("strftime_now", "{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d %H:%M') }}|{{ strftime_now('%B %A %j %%') }}", {}),
    ("raise_exception", "{{ raise_exception('Bad role: ' ~ role) }}", {"role": "robot"}),
    ("whitespace_mixed", "{%- for m in ms %}\n  {{- m }}\n{%- endfor %}\n\n  {% if true -%}\n  x\n  {%- endif %}\nend\n\n", {"ms": ["a", "b"]}),
    ("lstrip_only_blocks", "  {{ 'v' }}\n  {# c #}\n  {% if true %}t{% endif %}", {}),
    ("dict_literal_order", "{% set d = {'b': 1, 'a': 2} %}{% for k in d %}{{ k }}{% endfor %} {{ d | length }}", {}),
    ("in_operator_dict_message", "{{ 'tool_calls' in m }} {{ 'role' in m }}", {"m": {"role": "user"}}),
    ("string_concat_numbers_error", "{{ 'a' + 1 }}", {}),
    ("is_mapping_iterable_string", "{{ s is mapping or s is iterable }} {{ d is iterable }}", {"s": "text", "d": {"a": 1}}),
    ("not_precedence", "{{ not 1 == 2 }} {{ not x is defined }} {{ - 2 ** 2 }} {{ (- 2) ** 2 }}", {}),
    ("filter_precedence", "{{ -1 | abs }} {{ 'a' ~ 'b' | upper }} {{ (1 + 2) | string }} {{ 2 * 3 | string if false else 'n' }}", {}),
    ("length_of_dict_and_none", "{{ {'a': 1} | length }}", {}),
    ("string_search_code_points", "{{ 'añb日本日本'.find('本') }} {{ 'añb日本日本'.rfind('日') }} {{ 'aaaa'.count('aa') }}"
     " {{ 'abcabc'.rfind('abc') }} {{ 'aaaa'.rfind('aa') }} {{ 'a日b日c'.split('日') }} {{ 'a日b日c'.split('日', 1) }}"
     " {{ 'a日b日c'.partition('日') }} {{ 'a日b日c'.rpartition('日') }} {{ 'abc'.partition('z') }} {{ 'x'.find('') }}"
     " {{ 'xyz'.rfind('') }} {{ 'xyz'.count('') }} {{ '日' in 'a日' }} {{ 'é' in 'e' }} {{ 'aaa'.replace('', '-') }}"
     " {{ 'aaa'.replace('', '-', 2) }} {{ 'abab'.replace('ab', 'X', 1) }} {{ 'a日b'.index('b') }}", {}),
    ("unique_and_dict_keys_hash_like_python", "{{ [1, 1.0, true, 2, 'a', 'A', none, none] | unique | list }}"
     " {{ ['a', 'A'] | unique(case_sensitive=true) | list }} {{ [(1, 2), (1, 2), (1, 3)] | unique | list }}"
     " {% set d = {1: 'a', 1.0: 'b', true: 'c', 'k': 1, 2.5: 'f', (1, 2): 't'} %}{{ d }} {{ d[1] }} {{ d[(1, 2)] }}"
     " {{ [1, 2] == [1, 2.0] }} {{ {'a': 1} == {'a': 1.0} }} {{ 1.5 in [1, 1.5] }}", {}),
]


def golden_snippets():
    out = []
    for name, template, context in SNIPPETS:
        tokenizer = make_tokenizer({"eos_token": "</s>"}, template)
        case = {"name": name, "template": template, "context": context}
        try:
            # render_jinja_template, as apply_chat_template calls it, with the context as extra kwargs.
            rendered, _ = ctu.render_jinja_template(conversations=[[]], chat_template=template, **context)
            case["text"] = rendered[0]
        except jinja2.exceptions.TemplateError as error:
            case["error"] = str(error)
        except Exception as error:  # e.g. TypeError from 'a' + 1
            case["error"] = type(error).__name__ + ": " + str(error)
        out.append(case)
    return out


def main():
    renders = golden_renders()
    with open(os.path.join(HERE, "golden_renders.json"), "w", encoding="utf-8") as f:
        json.dump(renders, f, ensure_ascii=False, indent=1)
        f.write("\n")
    # A messages file for `skilltune chat-template` (keys in the order transformers saw them).
    case = next(c for c in renders if c["template"] == "llama-3.1-instruct" and c["conversation"] == "kwargs_tools_in_system")
    with open(os.path.join(HERE, "messages_llama-3.1_tools.json"), "w", encoding="utf-8") as f:
        json.dump({"messages": case["messages"], "tools": case["tools"], **case["kwargs"]}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    with open(os.path.join(HERE, "golden_snippets.json"), "w", encoding="utf-8") as f:
        json.dump(golden_snippets(), f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
