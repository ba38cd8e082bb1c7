//! 第 {{N}} 课:(标题)(参考答案)
//!
//! (这个程序做什么、协议是什么。)
//!
//! 手动试一试(课本:{{CHAPTER}}):
//!
//! ```text
//! cargo run -p solution-{{NN}}
//! ```

use std::net::TcpListener;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;

/// 第 {{N}} 课:(标题)。
#[derive(Parser)]
#[command(
    disable_help_flag = true,
    help_template = "{about}\n\n用法: {bin} [选项]\n\n选项:\n{options}"
)]
struct Args {
    /// 要绑定的 IP 地址(默认 127.0.0.1)
    #[arg(long, default_value = "127.0.0.1", value_parser = clap_zh::host, hide_default_value = true)]
    host: String,

    /// 要绑定的端口;0 表示让操作系统挑一个空闲端口(默认 9000)
    #[arg(short, long, default_value_t = 9000, hide_default_value = true)]
    port: u16,

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

fn run(args: &Args) -> Result<()> {
    let listener = bind(&args.host, args.port)?;
    for stream in listener.incoming() {
        // (在这里服务每个连接。)
        drop(stream);
    }
    Ok(())
}

// ANCHOR: bind
/// 第 1 步:绑定并监听,打印实际绑定的地址。
fn bind(host: &str, port: u16) -> Result<TcpListener> {
    // ANCHOR: step-1
    let listener =
        TcpListener::bind((host, port)).with_context(|| format!("无法绑定 {host}:{port}"))?;
    let addr = listener.local_addr().context("无法读取绑定的地址")?;
    println!("正在监听 {addr}");
    Ok(listener)
    // ANCHOR_END: step-1
}
// ANCHOR_END: bind
