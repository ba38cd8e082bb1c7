//! issue 12 缺陷 7 的重现:一个每隔一会儿发一个字节的客户端,不能把顺序服务的服务器占住。
//! 修好以前(超时只管每一次 read),它能一直占着;修好以后,一整行要在 --timeout 秒内发完。

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn a_client_trickling_bytes_is_cut_off_after_the_timeout() {
    let mut server = Command::new(env!("CARGO_BIN_EXE_solution-04"))
        .args(["--port", "0", "--timeout", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("能启动 solution-04");
    let mut first = String::new();
    BufReader::new(server.stdout.take().expect("piped"))
        .read_line(&mut first)
        .expect("读到第一行");
    let addr = first
        .split_whitespace()
        .last()
        .expect("第一行的最后是地址")
        .to_owned();

    let slow = TcpStream::connect(&addr).unwrap();
    let started = Instant::now();
    // 每 300 毫秒一个字节:每一次 read 都等不满 1 秒,一整行却永远发不完。
    let mut cut_off = None;
    for &byte in b"abcdefghijklmnopqrstuvwxyz" {
        if (&slow).write_all(&[byte]).is_err() {
            cut_off = Some(started.elapsed());
            break;
        }
        // 故障注入:一个慢吞吞的客户端,不是同步。
        std::thread::sleep(Duration::from_millis(300));
    }
    // 它被断开了(写失败,或者读到 EOF),后面的客户端照常得到回复。
    slow.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut rest = Vec::new();
    let _ = (&slow).read_to_end(&mut rest);
    let mut next = TcpStream::connect(&addr).unwrap();
    next.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    next.write_all("你好\n".as_bytes()).unwrap();
    let mut reply = String::new();
    let _ = next.read_to_string(&mut reply);
    let _ = server.kill();
    let _ = server.wait();

    assert!(rest.is_empty(), "慢吞吞的客户端不该收到回复");
    let cut_off = cut_off.expect("26 个字节、7.8 秒,服务器一直没有断开它");
    assert!(cut_off < Duration::from_secs(5), "{cut_off:?} 才断开");
    assert!(reply.contains("你好"), "下一个客户端收到「{reply}」");
}
