//! 聊天室(第 6 课)的负载测试和耐久测试。
//!
//! - `load chat`:N 个客户端进入聊天室,按给定的总速率轮流说话;每个人都读自己收到的每一行。
//!   报告进来了多少人、每秒说了多少句、每秒送达了多少行,以及一句话从说出到别人收到的延迟。
//! - `load chat-soak`:一千次「进来、说一句、以各种方式离开」,中间夹着一个从不读消息的人和
//!   各种坏的输入;前后对比服务器进程打开的文件描述符、线程数和内存,它们应该保持不变。

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use clap_zh::say;
use harness::tcp::TcpClient;

use crate::{percentile, show};

/// 等一个人进门(收到欢迎语)最多等多久。
const JOIN_TIMEOUT: Duration = Duration::from_secs(10);

/// 一个进了聊天室的负载客户端:写的一半在这里,读的一半在它自己的线程里。
struct Member {
    stream: TcpStream,
    reader: thread::JoinHandle<Vec<Arrival>>,
}

/// 收到的一句话:什么时候到的(从 epoch 算起的微秒),路上用了多久(微秒)。
#[derive(Clone, Copy)]
struct Arrival {
    at: u64,
    took: u32,
}

/// 连上、报昵称、等欢迎语,然后开一个线程读它收到的每一行。
///
/// 读线程只关心负载消息 `[load…] t=<微秒> …`:它记下每一行从说出到收到用了多少微秒。
fn join(addr: SocketAddr, nick: &str, epoch: Instant, counters: &Arc<Counters>) -> Result<Member> {
    let stream = TcpStream::connect_timeout(&addr, JOIN_TIMEOUT)
        .with_context(|| format!("{nick} 连不上 {addr}"))?;
    stream.set_read_timeout(Some(JOIN_TIMEOUT))?;
    // 负载工具测的是服务器,不想让自己这一端的 Nagle 算法把话扣住。
    stream.set_nodelay(true)?;
    // 一行一次 write_all:writeln! 直接写套接字会分好几次写(「昵称」和「换行」各一次),
    // 小包加上 Nagle 算法和延迟确认,一句话会平白慢上几十毫秒。
    (&stream).write_all(format!("{nick}\n").as_bytes())?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    loop {
        line.clear();
        let read = reader.read_line(&mut line).with_context(|| {
            format!(
                "{nick} 等了 {} 秒还没进门:服务器说的是第 6 课的协议吗?\
                 (tools/interop/seed_chat.py 要加 --compare-args --nick)",
                JOIN_TIMEOUT.as_secs()
            )
        })?;
        ensure!(read > 0, "{nick} 还没进门,服务器就关闭了连接");
        if line.starts_with("! ") {
            bail!("{nick} 被拒绝了: {}", line.trim_end());
        }
        if line.starts_with("* ") && line.contains(nick) {
            break;
        }
    }
    // 进门以后,读线程一直读到连接关闭,不设超时。
    stream.set_read_timeout(None)?;
    let counters = Arc::clone(counters);
    let reader = thread::Builder::new()
        .stack_size(64 * 1024)
        .spawn(move || read_latencies(reader, epoch, &counters))
        .context("无法创建读线程")?;
    Ok(Member { stream, reader })
}

/// 所有读线程一起数的东西。
#[derive(Default)]
struct Counters {
    /// 收到的负载消息(别人说的话)。
    delivered: AtomicU64,
    /// 收到的 `/list` 回复。
    lists: AtomicU64,
}

fn read_latencies(
    mut reader: BufReader<TcpStream>,
    epoch: Instant,
    counters: &Counters,
) -> Vec<Arrival> {
    let mut latencies = Vec::new();
    let mut line = String::new();
    while matches!(reader.read_line(&mut line), Ok(n) if n > 0) {
        if let Some(sent) = line
            .split_once("] t=")
            .and_then(|(_, rest)| rest.split(' ').next()?.parse::<u64>().ok())
        {
            let now = epoch.elapsed().as_micros() as u64;
            latencies.push(Arrival {
                at: now,
                took: now.saturating_sub(sent).min(u32::MAX as u64) as u32,
            });
            counters.delivered.fetch_add(1, Ordering::Relaxed);
        } else if line.starts_with("* 在线") {
            counters.lists.fetch_add(1, Ordering::Relaxed);
        }
        line.clear();
    }
    latencies
}

/// 一档负载的结果。
pub struct ChatRound {
    pub joined: usize,
    pub said: u64,
    pub expected: u64,
    pub delivered: u64,
    /// 说话的那几秒里送到的行(说完以后才陆续送到的不算):服务器真正的送达速率。
    pub delivered_in_time: u64,
    pub join_time: Duration,
    pub elapsed: Duration,
    pub latencies: Vec<Duration>,
    /// 所有人进门以后,服务器进程的用量(只有用 --server 启动、在 Linux 上才有)。
    pub server: Option<Usage>,
    /// 说话和送完的那段时间里,服务器花的功夫(同上,只在 Linux 上有)。
    pub work: Option<Work>,
    /// 同一段时间里,负载工具自己(收消息的那些线程)花的功夫:两边抢同样的 CPU 核心。
    pub tool: Option<Work>,
}

/// `clients` 个人进入聊天室,在 `length` 时间里按每秒 `rate` 句的总速率轮流说话。
pub fn chat_round(
    addr: SocketAddr,
    clients: usize,
    rate: u32,
    size: usize,
    length: Duration,
    server_pid: Option<u32>,
) -> Result<ChatRound> {
    let epoch = Instant::now();
    let counters = Arc::new(Counters::default());
    let mut members = Vec::with_capacity(clients);
    for i in 0..clients {
        members.push(join(addr, &format!("load{i}"), epoch, &counters)?);
    }
    // 进门的通知有 N×(N-1)/2 行(1000 人就是将近 50 万行)。等它们都送完再开始计时:
    // 每个人发一个 /list,服务器把回复排在他信箱里所有进门通知的后面;N 个回复都到了,就送完了。
    for member in &members {
        (&member.stream).write_all(b"/list\n")?;
    }
    let settled = wait_until(Duration::from_secs(60), || {
        counters.lists.load(Ordering::Relaxed) >= clients as u64
    });
    ensure!(settled, "进门 60 秒以后,还有人没收到 /list 的回复");
    let join_time = epoch.elapsed();
    let server = server_pid.and_then(|pid| usage(pid).ok());
    let work_before = server_pid.and_then(|pid| work(pid).ok());
    let tool_before = work(std::process::id()).ok();

    // 说话:一个线程按固定的节奏,轮流替每个人说一句。话里带着说出的时刻。
    let started = Instant::now();
    let interval = Duration::from_secs(1) / rate.max(1);
    let filler = "话".repeat(size / 3);
    let mut said = 0u64;
    let mut next = started;
    while next < started + length {
        let speaker = &members[(said as usize) % members.len()];
        let t = epoch.elapsed().as_micros();
        // 写不出去(服务器断开了这个人)就算了:送达数会说明问题。
        let _ = (&speaker.stream).write_all(format!("t={t} {filler}\n").as_bytes());
        said += 1;
        next += interval;
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            thread::sleep(wait); // 控制发送节奏,不是同步。
        }
    }
    let elapsed = started.elapsed();
    let expected = said * (clients as u64 - 1);

    // 等最后几句送到:最多再等 10 秒,到时还没收到的算作没有送达。
    wait_until(Duration::from_secs(10), || {
        counters.delivered.load(Ordering::Relaxed) >= expected
    });
    let tool = tool_before.and_then(|before| {
        work(std::process::id())
            .ok()
            .map(|after| after.since(before))
    });
    let work = match (server_pid, work_before) {
        (Some(pid), Some(before)) => work(pid).ok().map(|after| after.since(before)),
        _ => None,
    };
    // 关掉所有连接,读线程读到 EOF 就结束,交回它记下的延迟。
    let talk_end = (started + elapsed).duration_since(epoch).as_micros() as u64;
    let mut latencies = Vec::new();
    let mut delivered_in_time = 0;
    for member in members {
        let _ = member.stream.shutdown(Shutdown::Both);
        let part = member.reader.join().unwrap_or_default();
        delivered_in_time += part.iter().filter(|a| a.at <= talk_end).count() as u64;
        latencies.extend(
            part.into_iter()
                .map(|a| Duration::from_micros(u64::from(a.took))),
        );
    }
    let delivered = latencies.len() as u64;
    latencies.sort_unstable();
    Ok(ChatRound {
        joined: clients,
        said,
        expected,
        delivered,
        delivered_in_time,
        join_time,
        elapsed,
        latencies,
        server,
        work,
        tool,
    })
}

/// 每 10 毫秒看一次 `done()`,直到它为真(返回 true)或者过了 `limit`(返回 false)。
fn wait_until(limit: Duration, done: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while !done() {
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(10)); // 轮询计数,不是同步。
    }
    true
}

/// 表头。直接写成对齐好的文字:一个汉字占两列,用 {:>N} 对不齐。
pub fn print_header() {
    say!(
        "服务器            在线  进门(秒)    说/秒   送达行/秒    未送达        p50        p99       最慢     线程       内存  CPU µs/行  切换/行  工具µs/行"
    );
}

/// 一档的结果,一行。「送达行/秒」只数说话的那几秒里送到的行。
pub fn print_round(label: &str, round: &ChatRound) {
    let seconds = round.elapsed.as_secs_f64();
    say!(
        "{:<14} {:>7} {:>10.1} {:>8.0} {:>11.0} {:>9} {:>10} {:>10} {:>10} {:>8} {:>10} {:>10} {:>8} {:>10}",
        label,
        round.joined,
        round.join_time.as_secs_f64(),
        round.said as f64 / seconds,
        round.delivered_in_time as f64 / seconds,
        round.expected.saturating_sub(round.delivered),
        show(percentile(&round.latencies, 0.50)),
        show(percentile(&round.latencies, 0.99)),
        show(round.latencies.last().copied()),
        round
            .server
            .map_or("-".to_owned(), |u| u.threads.to_string()),
        round.server.map_or("-".to_owned(), |u| format!(
            "{:.1}MiB",
            u.rss_kib as f64 / 1024.0
        )),
        per_line(round.work, round, |w| w.cpu.as_secs_f64() * 1e6),
        per_line(round.work, round, |w| w.switches as f64),
        per_line(round.tool, round, |w| w.cpu.as_secs_f64() * 1e6),
    );
}

/// 每送达一行花的功夫(CPU 微秒、线程切换次数)。
fn per_line(work: Option<Work>, round: &ChatRound, of: impl Fn(&Work) -> f64) -> String {
    match work {
        Some(work) if round.delivered > 0 => format!("{:.2}", of(&work) / round.delivered as f64),
        _ => "-".to_owned(),
    }
}

/// 两个服务器同一档的比:送达速率是「我们 ÷ 对方」(大于 1 是我们快),
/// 延迟是「对方 ÷ 我们」(大于 1 也是我们快)。
pub fn print_ratio(ours: &ChatRound, theirs: &ChatRound) {
    let rate = |r: &ChatRound| r.delivered_in_time as f64 / r.elapsed.as_secs_f64();
    let faster = |p: f64| -> String {
        match (
            percentile(&ours.latencies, p),
            percentile(&theirs.latencies, p),
        ) {
            (Some(a), Some(b)) if !a.is_zero() => {
                format!("{:.2}×", b.as_secs_f64() / a.as_secs_f64())
            }
            _ => "-".to_owned(),
        }
    };
    say!(
        "{:<14} {:>7} {:>10} {:>8} {:>10.2}× {:>9} {:>10} {:>10}",
        "  比(越大越好)",
        "",
        "",
        "",
        rate(ours) / rate(theirs).max(1.0),
        "",
        faster(0.50),
        faster(0.99),
    );
}

/// 服务器进程此刻的资源:打开的文件描述符、线程数、常驻内存(KiB)。只在 Linux 上有。
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Usage {
    pub fds: usize,
    pub threads: usize,
    pub rss_kib: usize,
}

pub fn usage(pid: u32) -> Result<Usage> {
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .context("读不到 /proc/<pid>/fd(只在 Linux 上有)")?
        .count();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> Result<usize> {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .with_context(|| format!("/proc/{pid}/status 里没有 {name}"))
    };
    Ok(Usage {
        fds,
        threads: field("Threads:")?,
        rss_kib: field("VmRSS:")?,
    })
}

/// 服务器进程到此刻为止花的功夫:CPU 时间(所有线程加起来),和线程切换的次数
/// (所有线程「自己让出 CPU」和「被抢走 CPU」的次数之和)。只在 Linux 上有。
#[derive(Clone, Copy, Debug, Default)]
pub struct Work {
    pub cpu: Duration,
    pub switches: u64,
}

impl Work {
    fn since(self, before: Work) -> Work {
        Work {
            cpu: self.cpu.saturating_sub(before.cpu),
            switches: self.switches.saturating_sub(before.switches),
        }
    }
}

pub fn work(pid: u32) -> Result<Work> {
    // /proc/<pid>/stat 的第 14、15 个字段是整个进程的用户态、内核态时间,单位是时钟滴答
    // (Linux 上几乎总是每秒 100 个)。第 2 个字段(程序名)在括号里,可能有空格,从右括号后面数。
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| -> u64 { fields.get(i).and_then(|v| v.parse().ok()).unwrap_or(0) };
    let cpu = Duration::from_millis((ticks(11) + ticks(12)) * 10);
    // 切换次数按线程记,在 /proc/<pid>/task/<tid>/status 里;已经结束的线程不算。
    let mut switches = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))?.flatten() {
        let Ok(status) = std::fs::read_to_string(task.path().join("status")) else {
            continue;
        };
        switches += status
            .lines()
            .filter(|l| l.contains("ctxt_switches:"))
            .filter_map(|l| l.split_whitespace().last()?.parse::<u64>().ok())
            .sum::<u64>();
    }
    Ok(Work { cpu, switches })
}

/// 一次耐久测试里,来来去去的人用的离开方式。
const EXITS: [&str; 7] = [
    "/quit",
    "关闭连接",
    "连接重置",
    "没报昵称就走",
    "超长的一行",
    "坏的 UTF-8",
    "ANSI 转义序列后关闭",
];

/// 耐久测试:`cycles` 个人依次进来、说一句、用各种方式离开;同时有一个从不读消息的人。
/// 前后的文件描述符和线程数必须一样,后一半进出不能让内存明显再涨。
pub fn soak(addr: SocketAddr, cycles: usize, pid: u32) -> Result<()> {
    let epoch = Instant::now();
    let steady_a = join(addr, "alice", epoch, &Arc::default())?;
    let mut steady_b = TcpClient::connect(addr, Instant::now() + JOIN_TIMEOUT)?;
    steady_b.send(b"bob\n")?;
    // 一个进来以后再也不读的人。
    let slow = TcpClient::connect_with_small_buffer(addr, Instant::now() + JOIN_TIMEOUT)?;
    slow.send(b"slow\n")?;
    // 三个人都在名单里了,再量一次服务器的用量,作为基准。
    wait_for_list(&mut steady_b, |names| names.len() == 3)?;
    let before = settle(pid, None)?;

    // 分两半进出,每一半之后都等房间安静下来再量:第一半让分配器「热身」(它会留着释放掉的
    // 内存备用),第二半如果还在涨,才是泄漏。
    let started = Instant::now();
    let half = cycles / 2;
    (0..half).try_for_each(|i| visit(addr, i))?;
    let middle = quiet(&mut steady_b, pid, before)?;
    (half..cycles).try_for_each(|i| visit(addr, i))?;
    let after = quiet(&mut steady_b, pid, before)?;
    let cycling = started.elapsed();

    // 聊天室照常:alice 说一句,bob 收到。
    (&steady_a.stream).write_all("还有人在吗\n".as_bytes())?;
    let got = steady_b.read_until(
        Instant::now() + JOIN_TIMEOUT,
        || true,
        |b| String::from_utf8_lossy(b).contains("[alice] 还有人在吗"),
    );
    ensure!(
        got.ending == harness::tcp::ReadEnding::Found,
        "耐久测试之后,bob 没有收到 alice 的话"
    );
    let names = wait_for_list(&mut steady_b, |_| true)?;
    drop(slow);

    say!(
        "{cycles} 次进出,用时 {:.1} 秒;离开的方式轮流是:",
        cycling.as_secs_f64()
    );
    say!("  {}", EXITS.join("、"));
    say!("耐久测试之后 bob 的 /list: {names}(slow 从不读消息;话不多时他的连接写得进去,不算跟不上)");
    say!("                 之前     一半以后     之后");
    say!(
        "文件描述符 {:>10} {:>12} {:>8}",
        before.fds,
        middle.fds,
        after.fds
    );
    say!(
        "线程       {:>10} {:>12} {:>8}",
        before.threads,
        middle.threads,
        after.threads
    );
    say!(
        "内存(KiB)  {:>10} {:>12} {:>8}",
        before.rss_kib,
        middle.rss_kib,
        after.rss_kib
    );
    ensure!(
        after.fds <= before.fds,
        "文件描述符泄漏了:{} → {}",
        before.fds,
        after.fds
    );
    ensure!(
        after.threads <= before.threads,
        "线程泄漏了:{} → {}",
        before.threads,
        after.threads
    );
    let allowance = (middle.rss_kib / 5).max(1024);
    ensure!(
        after.rss_kib <= middle.rss_kib + allowance,
        "后一半进出让内存又涨了 {} KiB,可能有泄漏",
        after.rss_kib.saturating_sub(middle.rss_kib)
    );
    Ok(())
}

/// 第 `i` 个访客:进来,说一句,用 [`EXITS`] 里轮到的方式离开。
fn visit(addr: SocketAddr, i: usize) -> Result<()> {
    let how = EXITS[i % EXITS.len()];
    let client = TcpClient::connect(addr, Instant::now() + JOIN_TIMEOUT)?;
    if how == "没报昵称就走" {
        return Ok(());
    }
    client.send(format!("c{i}\n").as_bytes())?;
    // 从这里起,服务器随时可能断开他(比如一行太长),所以写失败无所谓。
    let _ = client.send(format!("第 {i} 个人说:你好\n").as_bytes());
    match how {
        "/quit" => {
            let _ = client.send(b"/quit\n");
        }
        "连接重置" => client.reset(),
        "超长的一行" => {
            let _ = client.send(&[b'x'; 5000]);
            let _ = client.send(b"\n");
        }
        "坏的 UTF-8" => {
            let _ = client.send(b"\xff\xfe\xfd\n");
        }
        "ANSI 转义序列后关闭" => {
            let _ = client.send(b"\x1b[2J\x1b[31m\n");
        }
        _ => {}
    }
    Ok(())
}

/// 等房间安静下来:bob 的 /list 里只剩 alice、bob(和还没被请走的 slow),
/// 服务器的线程和文件描述符回落到基准。返回那时的用量。
fn quiet(bob: &mut TcpClient, pid: u32, before: Usage) -> Result<Usage> {
    let allowed = ["alice", "bob", "slow"];
    wait_for_list(bob, |names| names.iter().all(|n| allowed.contains(n)))?;
    settle(pid, Some(before))
}

/// 让 bob 发 `/list`,直到名单满足 `wanted`(最多 10 秒)。返回那一行。
fn wait_for_list(bob: &mut TcpClient, wanted: impl Fn(&[&str]) -> bool) -> Result<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last = String::new();
    while Instant::now() < deadline {
        bob.send(b"/list\n")?;
        let got = bob.read_until(
            deadline,
            || true,
            |b| {
                String::from_utf8_lossy(b)
                    .lines()
                    .any(|l| l.starts_with("* 在线"))
            },
        );
        let text = String::from_utf8_lossy(&got.bytes).into_owned();
        if let Some(line) = text.lines().rev().find(|l| l.starts_with("* 在线")) {
            last = line.to_owned();
            let names = line.split_once(": ").map_or("", |(_, names)| names);
            if wanted(&names.split(", ").collect::<Vec<_>>()) {
                return Ok(last);
            }
        }
    }
    bail!("10 秒内,bob 的 /list 一直不对:{last}")
}

/// 读服务器进程的资源用量。`before` 给出时,等到线程数和文件描述符回落到它(最多 5 秒):
/// 离开的人的线程在名单里删掉他以后,还要一小会儿才真正结束。
fn settle(pid: u32, before: Option<Usage>) -> Result<Usage> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let now = usage(pid)?;
        let settled = before.is_none_or(|b| now.fds <= b.fds && now.threads <= b.threads);
        if settled || Instant::now() >= deadline {
            return Ok(now);
        }
        thread::sleep(Duration::from_millis(50)); // 轮询 /proc,不是同步。
    }
}
