//! 聊天室(第 6 课)的负载和浸泡测试。
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
use harness::tcp::TcpClient;

use crate::{percentile, show};

/// 等一个人进门(收到欢迎语)最多等多久。
const JOIN_TIMEOUT: Duration = Duration::from_secs(10);

/// 一个进了聊天室的负载客户端:写的一半在这里,读的一半在它自己的线程里。
struct Member {
    stream: TcpStream,
    reader: thread::JoinHandle<Vec<u32>>,
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
        ensure!(
            reader.read_line(&mut line)? > 0,
            "{nick} 还没进门,服务器就关闭了连接"
        );
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
) -> Vec<u32> {
    let mut latencies = Vec::new();
    let mut line = String::new();
    while matches!(reader.read_line(&mut line), Ok(n) if n > 0) {
        if let Some(sent) = line
            .split_once("] t=")
            .and_then(|(_, rest)| rest.split(' ').next()?.parse::<u64>().ok())
        {
            let now = epoch.elapsed().as_micros() as u64;
            latencies.push(now.saturating_sub(sent).min(u32::MAX as u64) as u32);
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
    pub join_time: Duration,
    pub elapsed: Duration,
    pub latencies: Vec<Duration>,
    /// 所有人进门以后,服务器进程的用量(只有用 --server 启动、在 Linux 上才有)。
    pub server: Option<Usage>,
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
    // 关掉所有连接,读线程读到 EOF 就结束,交回它记下的延迟。
    let mut latencies = Vec::new();
    for member in members {
        let _ = member.stream.shutdown(Shutdown::Both);
        let part = member.reader.join().unwrap_or_default();
        latencies.extend(part.into_iter().map(|us| Duration::from_micros(us as u64)));
    }
    let delivered = latencies.len() as u64;
    latencies.sort_unstable();
    Ok(ChatRound {
        joined: clients,
        said,
        expected,
        delivered,
        join_time,
        elapsed,
        latencies,
        server,
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

pub fn print_round(round: &ChatRound) {
    println!(
        "{:>7} {:>10.1} {:>10.0} {:>12.0} {:>8} {:>10} {:>10} {:>10} {:>8} {:>10}",
        round.joined,
        round.join_time.as_secs_f64(),
        round.said as f64 / round.elapsed.as_secs_f64(),
        round.delivered as f64 / round.elapsed.as_secs_f64(),
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

/// 一次浸泡里,来来去去的人用的离开方式。
const EXITS: [&str; 7] = [
    "/quit",
    "关闭连接",
    "连接重置",
    "没报昵称就走",
    "超长的一行",
    "坏的 UTF-8",
    "ANSI 转义序列后关闭",
];

/// 浸泡:`cycles` 个人依次进来、说一句、用各种方式离开;同时有一个从不读消息的人。
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
        "浸泡之后,bob 没有收到 alice 的话"
    );
    let names = wait_for_list(&mut steady_b, |_| true)?;
    drop(slow);

    println!(
        "{cycles} 次进出,用时 {:.1} 秒;离开的方式轮流是:",
        cycling.as_secs_f64()
    );
    println!("  {}", EXITS.join("、"));
    println!("浸泡之后 bob 的 /list: {names}(slow 从不读消息,在不在名单里取决于他的信箱满没满)");
    println!("                 之前     一半以后     之后");
    println!(
        "文件描述符 {:>10} {:>12} {:>8}",
        before.fds, middle.fds, after.fds
    );
    println!(
        "线程       {:>10} {:>12} {:>8}",
        before.threads, middle.threads, after.threads
    );
    println!(
        "内存(KiB)  {:>10} {:>12} {:>8}",
        before.rss_kib, middle.rss_kib, after.rss_kib
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
