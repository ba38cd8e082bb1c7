//! 第 5 课:带超时的 TCP 客户端(参考答案)
//!
//! 它连上服务器,把 `--message` 作为一行发过去,读回一行回复并打印,然后退出。
//! 连不上(连接被拒绝、超时)或者服务器迟迟不回复时,它在 stderr 说清楚发生了什么、
//! 该检查什么,并以非 0 退出码退出,而不是 panic 或者永远等下去。
//!
//! 协议:与第 4 课相同。客户端发一行(以 `\n` 结尾),服务器回一行,然后关闭连接;
//! 回复以 `\n` 结尾,或者以服务器关闭连接结尾。
//!
//! 手动试一试(课本:book/src/05-tcp-client.md):
//!
//! ```text
//! cargo run -p solution-04
//! # 另一个终端:
//! cargo run -p solution-05 -- --message 你好
//! ```

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use clap::Parser;

/// 往 stdout 打印一行,和 println! 一样;但 stdout 被关掉了也不会 panic。
///
/// 比如 `… | head -n 1`:head 读完第一行就走了,之后再写 stdout 会失败(Rust 程序忽略 SIGPIPE,
/// 写一个没人读的管道是一个错误),而 println! 遇到错误就 panic,退出码变成 101。没人看的输出
/// 丢掉就是了:收没收到回复,退出码照样说得清清楚楚。服务器的 log! 也是这样(课本第 6 课「日志写不出去」)。
macro_rules! show {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// 回复最多读这么多字节:服务器再不讲理,也不能让我们无限地占用内存。
const MAX_REPLY: u64 = 64 * 1024;

/// 第 5 课:带超时的 TCP 客户端。发一行,收一行。
#[derive(Parser)]
#[command(
    disable_help_flag = true,
    help_template = "{about}\n\n用法: {bin} [选项]\n\n选项:\n{options}"
)]
struct Args {
    /// 服务器的 IP 地址或主机名(默认 127.0.0.1)
    #[arg(long, default_value = "127.0.0.1", value_parser = clap_zh::host, hide_default_value = true)]
    host: String,

    /// 服务器的端口(默认 8998)
    #[arg(short, long, default_value_t = 8998, hide_default_value = true)]
    port: u16,

    /// 要发送的文字,一行(默认「我爱 Rust」)
    #[arg(short, long, default_value = "我爱 Rust", hide_default_value = true)]
    message: String,

    /// 连接和等回复各最多等多少秒(默认 3)
    #[arg(short, long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..), hide_default_value = true)]
    timeout: u64,

    /// 显示帮助
    #[arg(short, long, action = clap::ArgAction::Help)]
    help: Option<bool>,
}

fn main() -> ExitCode {
    let args: Args = clap_zh::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("错误: {err:#}");
            ExitCode::FAILURE
        }
    }
}

// ANCHOR: run
fn run(args: &Args) -> Result<()> {
    let server = resolve(&args.host, args.port)?;
    let timeout = Duration::from_secs(args.timeout);

    let stream = connect(server, timeout)?;
    send_line(&stream, &args.message)?;
    let reply = read_reply(&stream, server, timeout)?;
    show!("服务器回复: {}", String::from_utf8_lossy(&reply));
    Ok(())
}
// ANCHOR_END: run

/// 把主机名和端口解析成一个地址(`localhost` 这样的名字也可以)。
///
/// 一个名字可能对应好几个地址,比如 `localhost` 常常既是 ::1 又是 127.0.0.1。
/// 这门课的服务器默认只绑定 127.0.0.1,所以有 IPv4 地址时优先用它。
fn resolve(host: &str, port: u16) -> Result<SocketAddr> {
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .with_context(|| format!("无法解析地址 {host}:{port}"))?
        .collect();
    addrs
        .iter()
        .find(|addr| addr.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| anyhow!("{host}:{port} 没有对应的地址"))
}

// ANCHOR: connect
/// 第 1 步:带超时地连接服务器,并给之后的读写也设上超时。
fn connect(server: SocketAddr, timeout: Duration) -> Result<TcpStream> {
    // ANCHOR: step-1
    let stream = match TcpStream::connect_timeout(&server, timeout) {
        Ok(stream) => stream,
        // 连接被拒绝:那台机器在,但那个端口上没有程序在监听。最常见的原因是服务器没启动。
        Err(err) if err.kind() == io::ErrorKind::ConnectionRefused => bail!(
            "连接 {server} 被拒绝:这个地址上没有服务器在监听。\
             请确认服务器已经启动,地址和端口没有写错"
        ),
        Err(err) if err.kind() == io::ErrorKind::TimedOut => bail!(
            "{} 秒内没能连上 {server}:请检查地址是否正确、网络是否通畅、防火墙是否放行",
            timeout.as_secs()
        ),
        Err(err) => return Err(err).with_context(|| format!("无法连接 {server}")),
    };
    stream
        .set_read_timeout(Some(timeout))
        .context("无法设置读超时")?;
    stream
        .set_write_timeout(Some(timeout))
        .context("无法设置写超时")?;
    Ok(stream)
    // ANCHOR_END: step-1
}
// ANCHOR_END: connect

// ANCHOR: send_line
/// 第 2 步:把消息加上换行,完整地发出去。
fn send_line(mut stream: &TcpStream, message: &str) -> Result<()> {
    // ANCHOR: step-2
    // 一条消息以换行结束:服务器靠它知道消息到哪里为止。
    // write_all 而不是 write:write 可能只写出一部分,剩下的就丢了。
    let line = format!("{message}\n");
    stream.write_all(line.as_bytes()).context("发送消息失败")?;
    Ok(())
    // ANCHOR_END: step-2
}
// ANCHOR_END: send_line

// ANCHOR: read_reply
/// 第 3 步:读回复:读到换行为止,或者读到服务器关闭连接为止。
fn read_reply(stream: &TcpStream, server: SocketAddr, timeout: Duration) -> Result<Vec<u8>> {
    // ANCHOR: step-3
    // 回复可能分好几次到达,一次 read 拿到的未必是全部:read_until 会一直读到换行或 EOF。
    let mut reader = BufReader::new(stream.take(MAX_REPLY));
    let mut reply = Vec::new();
    match reader.read_until(b'\n', &mut reply) {
        Ok(0) => bail!("{server} 没有回复就关闭了连接"),
        Ok(_) => {}
        // 读超时在 Unix 上是 WouldBlock,在 Windows 上是 TimedOut。
        Err(err)
            if matches!(
                err.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            bail!(
                "等了 {} 秒,{server} 还没有回复完一行。服务器可能卡住了,或者它不用换行结束回复",
                timeout.as_secs()
            )
        }
        Err(err) => return Err(err).with_context(|| format!("读取 {server} 的回复失败")),
    }
    if reply.ends_with(b"\n") {
        reply.pop();
        if reply.ends_with(b"\r") {
            reply.pop();
        }
    }
    Ok(reply)
    // ANCHOR_END: step-3
}
// ANCHOR_END: read_reply
