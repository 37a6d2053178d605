-- wrk script for plain GETs (the URL and any -H headers come from the command line).
-- Adds non-2xx counting and a JSON summary; no request() hook, so wrk keeps its
-- pre-built static request (no per-request Lua cost).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

setup = common.setup
response = common.response
done = common.done
