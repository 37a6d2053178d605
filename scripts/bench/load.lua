-- wrk script: a mixed ARM workload for scripts/bench/load.py (load and soak).
--   wrk ... -s load.lua https://127.0.0.1:PORT -- TOKEN SUB RG GALLERY DEFINITIONS SNAPSHOT_ID
-- Every 20 requests of a thread:
--   9 reads   GET of the gallery, a definition, or a version with $expand=ReplicationStatus
--   3 lists   versions of a definition, galleries of the resource group
--   3 polls   GET of an Azure-AsyncOperation URL an earlier write of this thread was given
--             (a read of the gallery when none is pending)
--   3 writes  PUT of the thread's own gallery with new tags (long-running with an operation delay)
--   1 version PUT of a new image version "<thread+1>.<n>.0" to two regions (replicates)
--   1 delete  DELETE of the thread's version 30 before it, so the store stays bounded
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

setup = common.setup

local token, sub, rg, gallery, definitions, snapshot
local seq, versions = 0, 0
local pending = {}  -- status URLs (path and query) to poll, oldest first

function init(args)
  token, sub, rg, gallery = args[1], args[2], args[3], args[4]
  definitions = tonumber(args[5])
  snapshot = args[6]
end

local function base()
  return "/subscriptions/" .. sub .. "/resourceGroups/" .. rg .. "/providers/Microsoft.Compute/galleries/"
end

local function definition(n) return base() .. gallery .. "/images/def" .. (n % definitions) end

local function version_path(n)
  return definition(n) .. "/versions/" .. ((id or 0) + 1) .. "." .. n .. ".0"
end

local function call(method, path, body)
  local headers = {["Authorization"] = "Bearer " .. token}
  if body then headers["Content-Type"] = "application/json" end
  return wrk.format(method, path, headers, body)
end

local api = "?api-version=2022-03-03"

local function read(k)
  local which = k % 3
  if which == 0 then return call("GET", base() .. gallery .. api) end
  if which == 1 then return call("GET", definition(k) .. api) end
  -- Five behind the newest: the newest PUTs may still be in flight on other connections.
  if versions < 5 then return call("GET", base() .. gallery .. api) end
  return call("GET", version_path(versions - 5) .. api .. "&$expand=ReplicationStatus")
end

local function list(k)
  if k % 2 == 0 then return call("GET", definition(k) .. "/versions" .. api) end
  return call("GET", base() .. api)
end

local function poll()
  local url = table.remove(pending, 1)
  if url then return call("GET", url) end
  return call("GET", base() .. gallery .. api)
end

local function write(k)
  return call("PUT", base() .. "own" .. (id or 0) .. api,
              string.format('{"location":"westus","tags":{"k":"%d"}}', k))
end

local function put_version()
  local path = version_path(versions)
  versions = versions + 1
  return call("PUT", path .. api, string.format(
    '{"location":"westus","properties":{"storageProfile":{"osDiskImage":{"source":{"id":"%s"}}},' ..
    '"publishingProfile":{"targetRegions":[{"name":"westus"},{"name":"eastus"}]}}}', snapshot))
end

local function delete_old()
  if versions <= 30 then return call("GET", base() .. gallery .. api) end
  return call("DELETE", version_path(versions - 31) .. api)
end

-- Which kind each of the 20 slots is.
local plan = {"r", "l", "r", "w", "p", "r", "l", "r", "v", "p", "r", "w", "r", "l", "r", "p", "d", "w", "r", "r"}

function request()
  local k = seq
  seq = seq + 1
  local kind = plan[(k % 20) + 1]
  if kind == "r" then return read(k) end
  if kind == "l" then return list(k) end
  if kind == "p" then return poll() end
  if kind == "w" then return write(k) end
  if kind == "v" then return put_version() end
  return delete_old()
end

function response(status, headers, body)
  local url = headers["Azure-AsyncOperation"] or headers["azure-asyncoperation"]
  if url and #pending < 64 then table.insert(pending, (url:gsub("^https://[^/]+", ""))) end
  common.response(status, headers, body)
end

done = common.done
