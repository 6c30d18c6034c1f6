-- wrk script for bench/ (bench.load.wrk): rotate through prebuilt requests,
-- count unexpected statuses, and print one machine-readable line at the end.
--
--   wrk -t2 -c16 -d2s --latency -s bench/rotate.lua http://127.0.0.1:PORT -- SPEC.lua
--
-- SPEC.lua (written by bench.load.write_spec) returns
--   { expect = 302, threads = 2, requests = { {method, path, headers, body}, ... } }
-- Request k goes to thread (k - 1) % threads, so a user's requests always come
-- from one thread. For RSVP POST bench.endpoints lists every user's "going" request
-- and then every user's "declined" one: each thread cycles through its users
-- replying "going", then through them again replying "declined", and so on,
-- so each user alternates, and no user has two requests in flight while a
-- thread has more users than connections.

local threads = {}
local counter = 0

function setup(thread)
   thread:set("tid", counter)
   counter = counter + 1
   table.insert(threads, thread)
end

local mine = {}
local index = 0
expect = 200
unexpected = 0
first_unexpected = ""

function init(args)
   local spec = dofile(args[1])
   expect = spec.expect
   local n = spec.threads
   for k, r in ipairs(spec.requests) do
      if n <= 1 or (k - 1) % n == tid then
         table.insert(mine, wrk.format(r[1], r[2], r[3], r[4]))
      end
   end
   if #mine == 0 then
      -- Fewer requests than threads: every thread sends all of them.
      for _, r in ipairs(spec.requests) do
         table.insert(mine, wrk.format(r[1], r[2], r[3], r[4]))
      end
   end
end

function request()
   index = index % #mine + 1
   return mine[index]
end

function response(status, headers, body)
   if status ~= expect then
      unexpected = unexpected + 1
      if first_unexpected == "" then
         first_unexpected = tostring(status) .. " " .. tostring(headers["Location"] or "")
      end
   end
end

function done(summary, latency, requests)
   local bad, first = 0, ""
   for _, t in ipairs(threads) do
      bad = bad + t:get("unexpected")
      if first == "" then
         first = t:get("first_unexpected")
      end
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, '
         .. '"write": %d, "status": %d, "timeout": %d, "unexpected": %d, '
         .. '"first_unexpected": "%s", "p50_us": %d, "p90_us": %d, "p99_us": %d, '
         .. '"mean_us": %.1f, "max_us": %d}\n',
      summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
      bad, (first:gsub('[^%w%s/%.:?=&-]', '')), latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency.mean, latency.max
   ))
end
