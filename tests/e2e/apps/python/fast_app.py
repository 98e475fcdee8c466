"""A FastAPI app for the end-to-end tests: validation errors, dependency
injection, request body parsing (JSON model, form) and file upload."""
from typing import Optional

from fastapi import Depends, FastAPI, File, Form, Header, HTTPException, Query, UploadFile
from pydantic import BaseModel

app = FastAPI()


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


def pagination(skip: int = Query(0, ge=0), limit: int = Query(10, le=100)):
    return {"skip": skip, "limit": limit}


def current_user(x_token: Optional[str] = Header(None)):
    if x_token != "secret":
        raise HTTPException(status_code=401, detail="bad token", headers={"WWW-Authenticate": "Token"})
    return {"user": "alice"}


@app.get("/")
def root():
    return {"hello": "fastapi"}


@app.get("/items/{item_id}")
async def read_item(item_id: int, page: dict = Depends(pagination)):
    return {"item_id": item_id, **page}


@app.post("/items", status_code=201)
async def create_item(item: Item, user: dict = Depends(current_user)):
    return {"created": item.dict(), "by": user["user"]}


@app.post("/login")
async def login(username: str = Form(...), password: str = Form(...)):
    return {"username": username, "password_length": len(password)}


@app.post("/upload")
async def upload(file: UploadFile = File(...), note: str = Form("")):
    data = await file.read()
    return {"filename": file.filename, "content_type": file.content_type, "size": len(data),
            "head": data[:16].decode("latin-1"), "note": note}


@app.get("/sync")
def sync_endpoint(q: Optional[str] = None):
    # A plain def runs in the thread pool: exercises the loop/thread hand-off.
    return {"q": q}
