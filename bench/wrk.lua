-- wrk.lua - POSTs CDS Hooks requests for the benchmark and the load test.
--
-- Environment (read by every thread):
--   WRK_BODIES  a file of lines "PATH<TAB>BODY_FILE": the requests, sent in turn (required)
--   WRK_QUOTA   with WRK_THREADS (wrk's -t): each thread stops once its share of this many
--               responses came back and leaves a mark "done.<thread>" in WRK_DONE; the
--               caller interrupts wrk (SIGINT) once every thread is done (wrk itself
--               sleeps for -d whatever happens)
--   WRK_STATUS  "1": count the answers by HTTP status (costs a Lua call per response)
--   WRK_DELAY_MS a pause before each request of a connection: a paced, light load
-- done() prints one line "WRK_RESULT {json}": requests, duration, latency percentiles in
-- microseconds, socket errors and, with WRK_STATUS, the count of each status.

local threads = {}
local counter = 0

local pause = tonumber(os.getenv("WRK_DELAY_MS") or "0") or 0
if pause > 0 then
   function delay()
      return pause
   end
end

-- Called in turn for each thread, which starts at once: only its own number is known.
function setup(thread)
   counter = counter + 1
   thread:set("id", counter)
   table.insert(threads, thread)
end

local requests = {}
local next_req = 1
local quota = 0
local seen = 0
statuses = {} -- global: done() reads it with thread:get()

local function read_file(path)
   local f = assert(io.open(path, "rb"))
   local data = f:read("*a")
   f:close()
   return data
end

function init(args)
   local list = assert(os.getenv("WRK_BODIES"), "WRK_BODIES is required")
   for line in io.lines(list) do
      local path, file = line:match("^([^\t]+)\t(.+)$")
      if path then
         table.insert(requests, wrk.format("POST", path,
            {["Content-Type"] = "application/json"}, read_file(file)))
      end
   end
   assert(#requests > 0, "no requests in " .. list)
   local total = tonumber(os.getenv("WRK_QUOTA") or "0") or 0
   local nthreads = tonumber(os.getenv("WRK_THREADS") or "0") or 0
   if total > 0 and nthreads > 0 then
      -- this thread's share; the first threads take the remainder
      quota = math.floor(total / nthreads)
      if id <= total % nthreads then quota = quota + 1 end
   end
   if quota == 0 and os.getenv("WRK_STATUS") ~= "1" then
      response = nil -- wrk then skips parsing the answers
   end
end

function request()
   local r = requests[next_req]
   next_req = next_req % #requests + 1
   return r
end

-- This thread's share is met: leave its mark and stop.
local function finish()
   local mark = assert(io.open(os.getenv("WRK_DONE") .. "/done." .. id, "w"))
   mark:close()
   wrk.thread:stop()
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   seen = seen + 1
   if quota > 0 and seen == quota then
      finish()
   end
end

local function json_table(t)
   local parts = {}
   for k, v in pairs(t) do
      table.insert(parts, string.format('"%s":%d', tostring(k), v))
   end
   return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests_stats)
   local all = {}
   for _, t in ipairs(threads) do
      local s = t:get("statuses") or {}
      for k, v in pairs(s) do
         all[k] = (all[k] or 0) + v
      end
   end
   local e = summary.errors
   io.write(string.format(
      'WRK_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d,"mean_us":%.1f,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"statuses":%s}\n',
      summary.requests, summary.duration, summary.bytes,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency:percentile(99.9), latency.max, latency.mean,
      e.connect, e.read, e.write, e.status, e.timeout, json_table(all)))
end
