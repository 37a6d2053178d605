-- wrk script: PUT galleries with a changing body and a rotating set of names.
--   wrk ... -s put_gallery.lua https://127.0.0.1:PORT -- TOKEN SUBSCRIPTION RG NAMES
-- Request k of thread t PUTs gallery "benchput<(k + 97*t) % NAMES>", so the first
-- pass over the names inserts rows (201) and later requests update them (200).  Every body
-- carries a unique description ("t<thread>-k<k>") so each PUT really changes the row.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

setup = common.setup

local token, sub, rg, names, seq, offset

function init(args)
  token = args[1]
  sub = args[2] or "22222222-2222-2222-2222-222222222222"
  rg = args[3] or "bench-rg"
  names = tonumber(args[4] or "256")
  seq = 0
  offset = (id or 0) * 97            -- spread threads over the name ring
end

function request()
  local k = seq
  seq = seq + 1
  local name = string.format("benchput%04d", (k + offset) % names)
  local path = "/subscriptions/" .. sub .. "/resourceGroups/" .. rg ..
               "/providers/Microsoft.Compute/galleries/" .. name .. "?api-version=2022-03-03"
  local body = string.format(
    '{"location":"westus","properties":{"description":"bench put t%d-k%d"},"tags":{"seq":"%d"}}',
    id or 0, k, k)
  return wrk.format("PUT", path, {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }, body)
end

response = common.response
done = common.done
