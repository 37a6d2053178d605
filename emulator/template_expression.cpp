// The ARM template expression language: a parser into a small tree, then an evaluator over
// nlohmann::json values with a table of functions.

#include "emulator/template_expression.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <optional>

#include "emulator/source_rules.h"
#include "emulator/text.h"

namespace acg::arm_template {

using nlohmann::json;

ArmError template_error(const std::string& message) { return bad_request("InvalidTemplate", message); }

namespace {

// ---------------------------------------------------------------------------------------------
// Syntax tree

struct Node;

// ".name" (property non-empty) or "[expr]" (index holds the expression).
struct Accessor {
  std::string property;
  std::vector<Node> index;
};

struct Node {
  enum class Kind { string, integer, call } kind = Kind::string;
  std::string text;  // string literal, or the function name (lower case)
  std::int64_t integer = 0;
  std::vector<Node> args;
  std::vector<Accessor> accessors;
};

// ---------------------------------------------------------------------------------------------
// Parser: recursive descent over the text between the outer brackets.

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<Node> parse_all() {
    auto node = expression();
    if (!node) return node;
    skip_space();
    if (pos_ != text_.size()) return fail("unexpected '" + std::string(1, text_[pos_]) + "'");
    return node;
  }

 private:
  ArmError fail(const std::string& what) const {
    return template_error("The language expression '" + std::string(text_) + "' is not valid: " + what +
                          " at position " + std::to_string(pos_) + ".");
  }

  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }

  bool take(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  Result<Node> expression() {
    auto node = primary();
    if (!node) return node;
    return accessors(std::move(*node));
  }

  Result<Node> accessors(Node node) {
    for (;;) {
      if (take('.')) {
        std::string name = identifier();
        if (name.empty()) return fail("a property name is expected after '.'");
        node.accessors.push_back({name, {}});
      } else if (take('[')) {
        auto index = expression();
        if (!index) return index;
        if (!take(']')) return fail("']' is expected");
        Accessor accessor;
        accessor.index.push_back(std::move(*index));
        node.accessors.push_back(std::move(accessor));
      } else {
        return node;
      }
    }
  }

  std::string identifier() {
    skip_space();
    size_t start = pos_;
    while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')) ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }

  Result<Node> primary() {
    skip_space();
    if (pos_ >= text_.size()) return fail("the expression ends too early");
    char c = text_[pos_];
    if (c == '\'') return string_literal();
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '-') return integer_literal();
    if (std::isalpha(static_cast<unsigned char>(c))) return call();
    return fail("unexpected '" + std::string(1, c) + "'");
  }

  Result<Node> string_literal() {
    Node node;
    ++pos_;  // opening quote
    for (;;) {
      if (pos_ >= text_.size()) return fail("a string literal is not terminated");
      char c = text_[pos_++];
      if (c == '\'') {
        if (pos_ < text_.size() && text_[pos_] == '\'') {
          node.text += '\'';
          ++pos_;
          continue;
        }
        return node;
      }
      node.text += c;
    }
  }

  Result<Node> integer_literal() {
    size_t start = pos_;
    if (text_[pos_] == '-') ++pos_;
    while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    std::string digits(text_.substr(start, pos_ - start));
    if (digits == "-" || digits.size() > 18) return fail("an integer literal is not valid");
    Node node;
    node.kind = Node::Kind::integer;
    node.integer = std::stoll(digits);
    return node;
  }

  Result<Node> call() {
    Node node;
    node.kind = Node::Kind::call;
    node.text = to_lower(identifier());
    // "sys.concat(...)": a function name may carry the "sys." namespace prefix.
    if (node.text == "sys" && take('.')) node.text = to_lower(identifier());
    if (!take('(')) return fail("'(' is expected after '" + node.text + "'");
    if (take(')')) return node;
    for (;;) {
      auto arg = expression();
      if (!arg) return arg;
      node.args.push_back(std::move(*arg));
      if (take(')')) return node;
      if (!take(',')) return fail("',' or ')' is expected");
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Values

// How string() and concat() turn a value into text (objects and arrays as compact JSON).
std::string as_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "True" : "False";
  if (v.is_null()) return "";
  return v.dump();
}

bool truthy(const json& v) { return v.is_boolean() ? v.get<bool>() : false; }

// ---------------------------------------------------------------------------------------------
// Evaluator

using Args = std::vector<json>;

class Evaluator;
using Function = std::function<Result<json>(const Args&, Evaluator&)>;

struct FunctionSpec {
  size_t min_args;
  size_t max_args;  // SIZE_MAX: any number
  Function fn;
};

const std::map<std::string, FunctionSpec>& functions();

ArmError function_error(const std::string& name, const std::string& what) {
  return template_error("The template function '" + name + "' " + what);
}

class Evaluator {
 public:
  explicit Evaluator(ExpressionContext& ctx) : ctx(ctx) {}
  ExpressionContext& ctx;

  Result<json> eval(const Node& node) {
    auto value = eval_primary(node);
    if (!value) return value;
    return apply_accessors(node, std::move(*value));
  }

 private:
  Result<json> eval_primary(const Node& node) {
    switch (node.kind) {
      case Node::Kind::string: return json(node.text);
      case Node::Kind::integer: return json(node.integer);
      case Node::Kind::call: return eval_call(node);
    }
    return json();
  }

  Result<json> apply_accessors(const Node& node, json value) {
    for (const Accessor& a : node.accessors) {
      if (!a.property.empty()) {
        auto member = property(value, a.property);
        if (!member) return member;
        value = std::move(*member);
        continue;
      }
      auto index = eval(a.index.front());
      if (!index) return index;
      auto item = indexed(value, *index);
      if (!item) return item;
      value = std::move(*item);
    }
    return value;
  }

  // Property names match case-insensitively, as in ARM.
  static Result<json> property(const json& value, const std::string& name) {
    if (value.is_object())
      for (auto& [key, member] : value.items())
        if (iequals(key, name)) return member;
    return template_error("The language expression property '" + name + "' doesn't exist, available properties are '" +
                          available_properties(value) + "'.");
  }

  static std::string available_properties(const json& value) {
    std::string out;
    if (value.is_object())
      for (auto& [key, _] : value.items()) out += (out.empty() ? "" : ", ") + key;
    return out;
  }

  static Result<json> indexed(const json& value, const json& index) {
    if (index.is_string()) return property(value, index.get<std::string>());
    if (!index.is_number_integer() || !value.is_array())
      return template_error("The language expression property array index is not valid: a " + value_type_name(value) +
                            " cannot be indexed by a " + value_type_name(index) + ".");
    std::int64_t i = index.get<std::int64_t>();
    if (i < 0 || i >= static_cast<std::int64_t>(value.size()))
      return template_error("The language expression property array index '" + std::to_string(i) +
                            "' is out of bounds.");
    return value[static_cast<size_t>(i)];
  }

  Result<json> eval_call(const Node& node) {
    const std::string& name = node.text;
    // Lazy functions: arguments are evaluated only as needed.
    if (name == "if") return eval_if(node);
    if (name == "and" || name == "or") return eval_logical(node, name == "and");
    auto it = functions().find(name);
    if (it == functions().end())
      return template_error("The template function '" + name +
                            "' is not valid (not known to acg-emulator's template engine). Please see "
                            "https://aka.ms/arm-functions for usage details.");
    const FunctionSpec& spec = it->second;
    if (node.args.size() < spec.min_args || node.args.size() > spec.max_args)
      return function_error(name, "has an invalid number of arguments: " + std::to_string(node.args.size()) + ".");
    Args args;
    for (const Node& arg : node.args) {
      auto value = eval(arg);
      if (!value) return value;
      args.push_back(std::move(*value));
    }
    return spec.fn(args, *this);
  }

  Result<json> eval_if(const Node& node) {
    if (node.args.size() != 3) return function_error("if", "expects exactly three arguments.");
    auto condition = eval(node.args[0]);
    if (!condition) return condition;
    if (!condition->is_boolean()) return function_error("if", "expects its first argument to be a boolean.");
    return eval(node.args[condition->get<bool>() ? 1 : 2]);
  }

  Result<json> eval_logical(const Node& node, bool all) {
    if (node.args.size() < 2) return function_error(all ? "and" : "or", "expects at least two arguments.");
    for (const Node& arg : node.args) {
      auto value = eval(arg);
      if (!value) return value;
      if (!value->is_boolean()) return function_error(all ? "and" : "or", "expects boolean arguments.");
      if (value->get<bool>() != all) return json(!all);
    }
    return json(all);
  }
};

// ---------------------------------------------------------------------------------------------
// The function library

Result<std::string> text_arg(const std::string& fn, const Args& args, size_t i) {
  if (!args[i].is_string()) return function_error(fn, "expects argument " + std::to_string(i + 1) + " to be a string.");
  return args[i].get<std::string>();
}

Result<std::int64_t> int_arg(const std::string& fn, const Args& args, size_t i) {
  if (!args[i].is_number_integer())
    return function_error(fn, "expects argument " + std::to_string(i + 1) + " to be an integer.");
  return args[i].get<std::int64_t>();
}

Result<json> concat(const Args& args) {
  if (!args.empty() && args[0].is_array()) {
    json out = json::array();
    for (const json& a : args) {
      if (!a.is_array()) return function_error("concat", "expects its arguments to be either all strings or all arrays.");
      out.insert(out.end(), a.begin(), a.end());
    }
    return out;
  }
  std::string out;
  for (const json& a : args) {
    if (a.is_array() || a.is_object())
      return function_error("concat", "expects its arguments to be either all strings or all arrays.");
    out += as_text(a);
  }
  return json(out);
}

// format('{0}-{1:D3}', a, b): .NET composite formatting, with D<n> (zero padding) for integers.
Result<json> format(const Args& args) {
  auto pattern = text_arg("format", args, 0);
  if (!pattern) return pattern.error();
  std::string out;
  const std::string& p = *pattern;
  for (size_t i = 0; i < p.size(); ++i) {
    if ((p[i] == '{' || p[i] == '}') && i + 1 < p.size() && p[i + 1] == p[i]) {
      out += p[i++];
      continue;
    }
    if (p[i] != '{') {
      out += p[i];
      continue;
    }
    size_t close = p.find('}', i);
    if (close == std::string::npos) return function_error("format", "has an unterminated placeholder.");
    std::string spec = p.substr(i + 1, close - i - 1);
    std::string specifier;
    if (size_t colon = spec.find(':'); colon != std::string::npos) {
      specifier = spec.substr(colon + 1);
      spec = spec.substr(0, colon);
    }
    if (spec.empty() || !std::all_of(spec.begin(), spec.end(), ::isdigit))
      return function_error("format", "has an invalid placeholder '{" + spec + "}'.");
    size_t index = std::stoul(spec) + 1;
    if (index >= args.size()) return function_error("format", "has a placeholder {" + spec + "} without an argument.");
    std::string value = as_text(args[index]);
    if (!specifier.empty() && (specifier[0] == 'D' || specifier[0] == 'd') && args[index].is_number_integer()) {
      size_t width = specifier.size() > 1 ? std::stoul(specifier.substr(1)) : 0;
      bool negative = !value.empty() && value[0] == '-';
      std::string digits = negative ? value.substr(1) : value;
      if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
      value = (negative ? "-" : "") + digits;
    }
    out += value;
    i = close;
  }
  return json(out);
}

// A deterministic 13-character [a-z2-7] hash of the arguments (uniqueString). Stable across
// runs and machines; NOT the same values as Azure's (whose hash is not published).
Result<json> unique_string(const Args& args) {
  std::string joined;
  for (const json& a : args) {
    if (!a.is_string()) return function_error("uniqueString", "expects string arguments.");
    joined += a.get<std::string>() + "-";
  }
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a 64
  for (unsigned char c : joined) h = (h ^ c) * 1099511628211ULL;
  static const char* kAlphabet = "abcdefghijklmnopqrstuvwxyz234567";
  std::string out;
  for (int i = 0; i < 13; ++i) {
    out += kAlphabet[h & 31];
    h = (h >> 5) | (h << 59);
  }
  return json(out);
}

Result<json> guid_of(const Args& args) {
  std::string joined;
  for (const json& a : args) {
    if (!a.is_string()) return function_error("guid", "expects string arguments.");
    joined += a.get<std::string>() + "-";
  }
  return json(derived_guid("arm-template-guid:" + joined));
}

Result<json> length_of(const Args& args) {
  const json& v = args[0];
  if (v.is_string()) return json(static_cast<std::int64_t>(v.get<std::string>().size()));
  if (v.is_array() || v.is_object()) return json(static_cast<std::int64_t>(v.size()));
  return function_error("length", "expects a string, an array or an object.");
}

Result<json> contains(const Args& args) {
  const json& c = args[0];
  const json& item = args[1];
  if (c.is_string()) return json(item.is_string() && c.get<std::string>().find(item.get<std::string>()) != std::string::npos);
  if (c.is_array()) return json(std::find(c.begin(), c.end(), item) != c.end());
  if (c.is_object()) {
    if (!item.is_string()) return json(false);
    for (auto& [key, _] : c.items())
      if (iequals(key, item.get<std::string>())) return json(true);
    return json(false);
  }
  return function_error("contains", "expects a string, an array or an object.");
}

Result<json> empty(const Args& args) {
  const json& v = args[0];
  if (v.is_null()) return json(true);
  if (v.is_string()) return json(v.get<std::string>().empty());
  if (v.is_array() || v.is_object()) return json(v.empty());
  return function_error("empty", "expects a string, an array or an object.");
}

// resourceId([subscriptionId], [resourceGroupName], type, name1, name2, ...): the resource
// type is the first argument holding a '/', the ones before it the scope.
Result<json> resource_id(const Args& args, Evaluator& e, bool subscription_level) {
  const char* fn = subscription_level ? "subscriptionResourceId" : "resourceId";
  size_t type_at = args.size();
  for (size_t i = 0; i < args.size(); ++i) {
    if (!args[i].is_string()) return function_error(fn, "expects string arguments.");
    if (args[i].get<std::string>().find('/') != std::string::npos) {
      type_at = i;
      break;
    }
  }
  if (type_at == args.size()) return function_error(fn, "expects a resource type of the form 'Namespace/type'.");
  json sub = e.ctx.subscription();
  std::string subscription = sub["subscriptionId"];
  std::string group = e.ctx.resource_group()["name"];
  if (subscription_level) {
    if (type_at > 1) return function_error(fn, "expects at most a subscription id before the resource type.");
    if (type_at == 1) subscription = args[0];
  } else {
    if (type_at > 2) return function_error(fn, "expects at most a subscription id and a resource group before the type.");
    if (type_at == 2) subscription = args[0], group = args[1];
    if (type_at == 1) group = args[0];
  }
  std::string type = args[type_at];
  std::vector<std::string> segments;
  for (size_t start = 0;;) {
    size_t slash = type.find('/', start);
    segments.push_back(type.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  if (segments.size() - 1 != args.size() - type_at - 1)
    return function_error(fn, "has " + std::to_string(args.size() - type_at - 1) + " resource names for type '" + type +
                                  "', which needs " + std::to_string(segments.size() - 1) + ".");
  std::string id = "/subscriptions/" + subscription;
  if (!subscription_level) id += "/resourceGroups/" + group;
  id += "/providers/" + segments[0];
  for (size_t i = 1; i < segments.size(); ++i) id += "/" + segments[i] + "/" + args[type_at + i].get<std::string>();
  return json(id);
}

Result<json> compare(const Args& args, const std::string& fn, const std::function<bool(int)>& accept) {
  const json &a = args[0], &b = args[1];
  int order = 0;
  if (a.is_number_integer() && b.is_number_integer())
    order = a.get<std::int64_t>() < b.get<std::int64_t>() ? -1 : a.get<std::int64_t>() > b.get<std::int64_t>() ? 1 : 0;
  else if (a.is_string() && b.is_string())
    order = a.get<std::string>().compare(b.get<std::string>()) < 0 ? -1 : a.get<std::string>() == b.get<std::string>() ? 0 : 1;
  else
    return function_error(fn, "expects two integers or two strings.");
  return json(accept(order));
}

Result<json> arithmetic(const Args& args, const std::string& fn) {
  auto a = int_arg(fn, args, 0);
  if (!a) return a.error();
  auto b = int_arg(fn, args, 1);
  if (!b) return b.error();
  if ((fn == "div" || fn == "mod") && *b == 0) return function_error(fn, "cannot divide by zero.");
  if (fn == "add") return json(*a + *b);
  if (fn == "sub") return json(*a - *b);
  if (fn == "mul") return json(*a * *b);
  if (fn == "div") return json(*a / *b);
  return json(*a % *b);
}

Result<json> extreme(const Args& args, bool minimum) {
  std::vector<std::int64_t> values;
  for (const json& a : args) {
    const json& items = a.is_array() ? a : json::array({a});
    for (const json& v : items) {
      if (!v.is_number_integer()) return function_error(minimum ? "min" : "max", "expects integers.");
      values.push_back(v.get<std::int64_t>());
    }
  }
  if (values.empty()) return function_error(minimum ? "min" : "max", "expects at least one integer.");
  return json(minimum ? *std::min_element(values.begin(), values.end()) : *std::max_element(values.begin(), values.end()));
}

Result<json> union_of(const Args& args) {
  if (args[0].is_object()) {
    json out = json::object();
    for (const json& a : args) {
      if (!a.is_object()) return function_error("union", "expects all objects or all arrays.");
      for (auto& [k, v] : a.items()) out[k] = v;
    }
    return out;
  }
  json out = json::array();
  for (const json& a : args) {
    if (!a.is_array()) return function_error("union", "expects all objects or all arrays.");
    for (const json& v : a)
      if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
  }
  return out;
}

Result<json> take_or_skip(const Args& args, bool take) {
  const std::string fn = take ? "take" : "skip";
  auto n = int_arg(fn, args, 1);
  if (!n) return n.error();
  const json& v = args[0];
  if (v.is_string()) {
    std::string s = v;
    size_t k = static_cast<size_t>(std::clamp<std::int64_t>(*n, 0, static_cast<std::int64_t>(s.size())));
    return json(take ? s.substr(0, k) : s.substr(k));
  }
  if (!v.is_array()) return function_error(fn, "expects a string or an array.");
  size_t k = static_cast<size_t>(std::clamp<std::int64_t>(*n, 0, static_cast<std::int64_t>(v.size())));
  json out = json::array();
  for (size_t i = take ? 0 : k; i < (take ? k : v.size()); ++i) out.push_back(v[i]);
  return out;
}

Result<json> split(const Args& args) {
  auto s = text_arg("split", args, 0);
  if (!s) return s.error();
  std::vector<std::string> delimiters;
  for (const json& d : args[1].is_array() ? args[1] : json::array({args[1]})) {
    if (!d.is_string() || d.get<std::string>().empty()) return function_error("split", "expects non-empty string delimiters.");
    delimiters.push_back(d);
  }
  json out = json::array();
  std::string current;
  for (size_t i = 0; i < s->size();) {
    auto hit = std::find_if(delimiters.begin(), delimiters.end(),
                            [&](const std::string& d) { return s->compare(i, d.size(), d) == 0; });
    if (hit != delimiters.end()) {
      out.push_back(current);
      current.clear();
      i += hit->size();
    } else {
      current += (*s)[i++];
    }
  }
  out.push_back(current);
  return out;
}

Result<json> replace(const Args& args) {
  auto s = text_arg("replace", args, 0);
  auto from = text_arg("replace", args, 1);
  auto to = text_arg("replace", args, 2);
  if (!s || !from || !to) return function_error("replace", "expects three strings.");
  if (from->empty()) return json(*s);
  std::string out;
  for (size_t i = 0; i < s->size();) {
    if (s->compare(i, from->size(), *from) == 0) {
      out += *to;
      i += from->size();
    } else {
      out += (*s)[i++];
    }
  }
  return json(out);
}

Result<json> substring(const Args& args) {
  auto s = text_arg("substring", args, 0);
  if (!s) return s.error();
  auto start = int_arg("substring", args, 1);
  if (!start) return start.error();
  std::int64_t size = static_cast<std::int64_t>(s->size());
  std::int64_t length = size - *start;
  if (args.size() > 2) {
    auto l = int_arg("substring", args, 2);
    if (!l) return l.error();
    length = *l;
  }
  if (*start < 0 || length < 0 || *start + length > size)
    return function_error("substring", "has a start index or length outside the string.");
  return json(s->substr(static_cast<size_t>(*start), static_cast<size_t>(length)));
}

Result<json> to_string_value(const Args& args) { return json(as_text(args[0])); }

Result<json> to_int(const Args& args) {
  if (args[0].is_number_integer()) return args[0];
  if (args[0].is_string()) {
    const std::string& s = args[0].get_ref<const std::string&>();
    char* end = nullptr;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (!s.empty() && end && *end == '\0') return json(static_cast<std::int64_t>(v));
  }
  return function_error("int", "cannot convert '" + as_text(args[0]) + "' to an integer.");
}

Result<json> to_bool(const Args& args) {
  const json& v = args[0];
  if (v.is_boolean()) return v;
  if (v.is_number_integer()) return json(v.get<std::int64_t>() != 0);
  if (v.is_string() && (iequals(v.get<std::string>(), "true") || iequals(v.get<std::string>(), "false")))
    return json(iequals(v.get<std::string>(), "true"));
  return function_error("bool", "cannot convert '" + as_text(v) + "' to a boolean.");
}

Result<json> parse_json(const Args& args) {
  auto s = text_arg("json", args, 0);
  if (!s) return s.error();
  json parsed = json::parse(*s, nullptr, false);
  if (parsed.is_discarded()) return function_error("json", "was given text that is not valid JSON.");
  return parsed;
}

Result<json> create_object(const Args& args) {
  if (args.size() % 2 != 0) return function_error("createObject", "expects pairs of names and values.");
  json out = json::object();
  for (size_t i = 0; i < args.size(); i += 2) {
    if (!args[i].is_string()) return function_error("createObject", "expects string property names.");
    out[args[i].get<std::string>()] = args[i + 1];
  }
  return out;
}

Result<json> range(const Args& args) {
  auto start = int_arg("range", args, 0);
  auto count = int_arg("range", args, 1);
  if (!start || !count || *count < 0 || *count > 10000) return function_error("range", "expects a start and a count 0..10000.");
  json out = json::array();
  for (std::int64_t i = 0; i < *count; ++i) out.push_back(*start + i);
  return out;
}

Result<json> first_or_last(const Args& args, bool first) {
  const json& v = args[0];
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    return json(s.empty() ? "" : std::string(1, first ? s.front() : s.back()));
  }
  if (!v.is_array()) return function_error(first ? "first" : "last", "expects a string or an array.");
  if (v.empty()) return json();
  return first ? v.front() : v.back();
}

Result<json> index_of(const Args& args, bool last) {
  const std::string fn = last ? "lastIndexOf" : "indexOf";
  auto s = text_arg(fn, args, 0);
  auto item = text_arg(fn, args, 1);
  if (!s || !item) return function_error(fn, "expects two strings.");
  std::string hay = to_lower(*s), needle = to_lower(*item);
  size_t at = last ? hay.rfind(needle) : hay.find(needle);
  return json(at == std::string::npos ? std::int64_t{-1} : static_cast<std::int64_t>(at));
}

Result<json> affix(const Args& args, bool starts) {
  const std::string fn = starts ? "startsWith" : "endsWith";
  auto s = text_arg(fn, args, 0);
  auto affix_text = text_arg(fn, args, 1);
  if (!s || !affix_text) return function_error(fn, "expects two strings.");
  std::string hay = to_lower(*s), needle = to_lower(*affix_text);
  if (needle.size() > hay.size()) return json(false);
  return json(starts ? hay.compare(0, needle.size(), needle) == 0
                     : hay.compare(hay.size() - needle.size(), needle.size(), needle) == 0);
}

Result<json> trim(const Args& args) {
  auto s = text_arg("trim", args, 0);
  if (!s) return s.error();
  size_t b = s->find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return json("");
  size_t e = s->find_last_not_of(" \t\r\n");
  return json(s->substr(b, e - b + 1));
}

Result<json> reference(const Args& args, Evaluator& e) {
  auto id = text_arg("reference", args, 0);
  if (!id) return id.error();
  std::string api_version = args.size() > 1 ? as_text(args[1]) : "";
  bool full = args.size() > 2 && iequals(as_text(args[2]), "Full");
  return e.ctx.reference(*id, api_version, full);
}

Result<json> copy_index(const Args& args, Evaluator& e) {
  std::string loop;
  std::int64_t offset = 0;
  for (const json& a : args) {
    if (a.is_string()) loop = a;
    else if (a.is_number_integer()) offset = a;
    else return function_error("copyIndex", "expects a loop name and/or an integer offset.");
  }
  return e.ctx.copy_index(loop, offset);
}

Result<json> case_of(const Args& args, bool lower) {
  auto s = text_arg(lower ? "toLower" : "toUpper", args, 0);
  if (!s) return s.error();
  return json(lower ? to_lower(*s) : to_upper(*s));
}

Result<json> coalesce(const Args& args) {
  for (const json& a : args)
    if (!a.is_null()) return a;
  return json();
}

constexpr size_t kAny = SIZE_MAX;

const std::map<std::string, FunctionSpec>& functions() {
  static const std::map<std::string, FunctionSpec> table = {
      // Deployment values
      {"parameters", {1, 1, [](const Args& a, Evaluator& e) -> Result<json> {
         auto n = text_arg("parameters", a, 0);
         if (!n) return n.error();
         return e.ctx.parameter(*n);
       }}},
      {"variables", {1, 1, [](const Args& a, Evaluator& e) -> Result<json> {
         auto n = text_arg("variables", a, 0);
         if (!n) return n.error();
         return e.ctx.variable(*n);
       }}},
      {"copyindex", {0, 2, copy_index}},
      {"reference", {1, 3, reference}},
      {"resourceid", {2, kAny, [](const Args& a, Evaluator& e) { return resource_id(a, e, false); }}},
      {"subscriptionresourceid", {2, kAny, [](const Args& a, Evaluator& e) { return resource_id(a, e, true); }}},
      {"resourcegroup", {0, 0, [](const Args&, Evaluator& e) -> Result<json> { return e.ctx.resource_group(); }}},
      {"subscription", {0, 0, [](const Args&, Evaluator& e) -> Result<json> { return e.ctx.subscription(); }}},
      {"deployment", {0, 0, [](const Args&, Evaluator& e) -> Result<json> { return e.ctx.deployment(); }}},
      {"utcnow", {0, 1, [](const Args&, Evaluator& e) -> Result<json> { return json(e.ctx.utc_now()); }}},
      // Strings
      {"concat", {1, kAny, [](const Args& a, Evaluator&) { return concat(a); }}},
      {"format", {1, kAny, [](const Args& a, Evaluator&) { return format(a); }}},
      {"tolower", {1, 1, [](const Args& a, Evaluator&) { return case_of(a, true); }}},
      {"toupper", {1, 1, [](const Args& a, Evaluator&) { return case_of(a, false); }}},
      {"uniquestring", {1, kAny, [](const Args& a, Evaluator&) { return unique_string(a); }}},
      {"guid", {1, kAny, [](const Args& a, Evaluator&) { return guid_of(a); }}},
      {"replace", {3, 3, [](const Args& a, Evaluator&) { return replace(a); }}},
      {"split", {2, 2, [](const Args& a, Evaluator&) { return split(a); }}},
      {"substring", {2, 3, [](const Args& a, Evaluator&) { return substring(a); }}},
      {"trim", {1, 1, [](const Args& a, Evaluator&) { return trim(a); }}},
      {"startswith", {2, 2, [](const Args& a, Evaluator&) { return affix(a, true); }}},
      {"endswith", {2, 2, [](const Args& a, Evaluator&) { return affix(a, false); }}},
      {"indexof", {2, 2, [](const Args& a, Evaluator&) { return index_of(a, false); }}},
      {"lastindexof", {2, 2, [](const Args& a, Evaluator&) { return index_of(a, true); }}},
      {"string", {1, 1, [](const Args& a, Evaluator&) { return to_string_value(a); }}},
      // Collections
      {"length", {1, 1, [](const Args& a, Evaluator&) { return length_of(a); }}},
      {"contains", {2, 2, [](const Args& a, Evaluator&) { return contains(a); }}},
      {"empty", {1, 1, [](const Args& a, Evaluator&) { return empty(a); }}},
      {"first", {1, 1, [](const Args& a, Evaluator&) { return first_or_last(a, true); }}},
      {"last", {1, 1, [](const Args& a, Evaluator&) { return first_or_last(a, false); }}},
      {"take", {2, 2, [](const Args& a, Evaluator&) { return take_or_skip(a, true); }}},
      {"skip", {2, 2, [](const Args& a, Evaluator&) { return take_or_skip(a, false); }}},
      {"union", {1, kAny, [](const Args& a, Evaluator&) { return union_of(a); }}},
      {"createarray", {0, kAny, [](const Args& a, Evaluator&) -> Result<json> { return json(a); }}},
      {"array", {1, 1, [](const Args& a, Evaluator&) -> Result<json> { return a[0].is_array() ? a[0] : json::array({a[0]}); }}},
      {"createobject", {0, kAny, [](const Args& a, Evaluator&) { return create_object(a); }}},
      {"range", {2, 2, [](const Args& a, Evaluator&) { return range(a); }}},
      {"coalesce", {1, kAny, [](const Args& a, Evaluator&) { return coalesce(a); }}},
      {"json", {1, 1, [](const Args& a, Evaluator&) { return parse_json(a); }}},
      {"int", {1, 1, [](const Args& a, Evaluator&) { return to_int(a); }}},
      {"bool", {1, 1, [](const Args& a, Evaluator&) { return to_bool(a); }}},
      // Logic and comparison
      {"equals", {2, 2, [](const Args& a, Evaluator&) -> Result<json> { return json(a[0] == a[1]); }}},
      {"not", {1, 1, [](const Args& a, Evaluator&) -> Result<json> {
         if (!a[0].is_boolean()) return function_error("not", "expects a boolean.");
         return json(!truthy(a[0]));
       }}},
      {"true", {0, 0, [](const Args&, Evaluator&) -> Result<json> { return json(true); }}},
      {"false", {0, 0, [](const Args&, Evaluator&) -> Result<json> { return json(false); }}},
      {"null", {0, 0, [](const Args&, Evaluator&) -> Result<json> { return json(); }}},
      {"greater", {2, 2, [](const Args& a, Evaluator&) { return compare(a, "greater", [](int o) { return o > 0; }); }}},
      {"greaterorequals", {2, 2, [](const Args& a, Evaluator&) { return compare(a, "greaterOrEquals", [](int o) { return o >= 0; }); }}},
      {"less", {2, 2, [](const Args& a, Evaluator&) { return compare(a, "less", [](int o) { return o < 0; }); }}},
      {"lessorequals", {2, 2, [](const Args& a, Evaluator&) { return compare(a, "lessOrEquals", [](int o) { return o <= 0; }); }}},
      // Numbers
      {"add", {2, 2, [](const Args& a, Evaluator&) { return arithmetic(a, "add"); }}},
      {"sub", {2, 2, [](const Args& a, Evaluator&) { return arithmetic(a, "sub"); }}},
      {"mul", {2, 2, [](const Args& a, Evaluator&) { return arithmetic(a, "mul"); }}},
      {"div", {2, 2, [](const Args& a, Evaluator&) { return arithmetic(a, "div"); }}},
      {"mod", {2, 2, [](const Args& a, Evaluator&) { return arithmetic(a, "mod"); }}},
      {"min", {1, kAny, [](const Args& a, Evaluator&) { return extreme(a, true); }}},
      {"max", {1, kAny, [](const Args& a, Evaluator&) { return extreme(a, false); }}},
  };
  return table;
}

Result<Node> parse(const std::string& text) { return Parser(std::string_view(text).substr(1, text.size() - 2)).parse_all(); }

void collect_calls(const Node& node, std::vector<std::string>& out) {
  if (node.kind == Node::Kind::call) out.push_back(node.text);
  for (const Node& arg : node.args) collect_calls(arg, out);
  for (const Accessor& a : node.accessors)
    for (const Node& index : a.index) collect_calls(index, out);
}

}  // namespace

std::string value_type_name(const json& v) {
  if (v.is_string()) return "String";
  if (v.is_number_integer()) return "Integer";
  if (v.is_number()) return "Float";
  if (v.is_boolean()) return "Boolean";
  if (v.is_array()) return "Array";
  if (v.is_object()) return "Object";
  return "Null";
}

bool is_expression(const std::string& text) {
  return text.size() >= 2 && text.front() == '[' && text.back() == ']' && text[1] != '[';
}

Result<json> evaluate_string(const std::string& text, ExpressionContext& ctx) {
  if (!is_expression(text)) {
    if (text.size() >= 2 && text[0] == '[' && text[1] == '[') return json(text.substr(1));
    return json(text);
  }
  auto tree = parse(text);
  if (!tree) return tree.error();
  Evaluator evaluator(ctx);
  return evaluator.eval(*tree);
}

Result<json> evaluate_value(const json& value, ExpressionContext& ctx) {
  if (value.is_string()) return evaluate_string(value.get<std::string>(), ctx);
  if (value.is_array()) {
    json out = json::array();
    for (const json& item : value) {
      auto v = evaluate_value(item, ctx);
      if (!v) return v;
      out.push_back(std::move(*v));
    }
    return out;
  }
  if (value.is_object()) {
    json out = json::object();
    for (auto& [key, member] : value.items()) {
      auto v = evaluate_value(member, ctx);
      if (!v) return v;
      out[key] = std::move(*v);
    }
    return out;
  }
  return value;
}

Result<std::vector<std::string>> functions_called(const std::string& text) {
  std::vector<std::string> out;
  if (!is_expression(text)) return out;
  auto tree = parse(text);
  if (!tree) return tree.error();
  collect_calls(*tree, out);
  for (const std::string& name : out)
    if (name != "if" && name != "and" && name != "or" && !functions().count(name))
      return template_error("The template function '" + name +
                            "' is not valid (not known to acg-emulator's template engine). Please see "
                            "https://aka.ms/arm-functions for usage details.");
  return out;
}

}  // namespace acg::arm_template
